"""Part 3 of `sashimi interpret`: maps of the bottleneck z of every dev prompt.

z is the bridge's bottleneck code (`Memory.z`; the mean in a variational run, since the decoder is in
eval mode). It is projected to 2-D with PCA (scikit-learn, full SVD: deterministic) and, when
`umap-learn` is installed and not switched off, with UMAP (seeded, one thread: deterministic). Each
map is drawn coloured by domain and, given the harness rows, by outcome (action F1 >= 0.5; compiled).

Domain of a row: the synthetic corpus metadata's first domain when a metadata file is given, else the
domain rule of EXP-1.1 (`sashimi.eval.encoder_exp.program_domain`): the most frequent catalog
category among the gold program's actions, plumbing categories (scripting, text, lists, dates,
clipboard, control flow) left out. (The category of the first action alone names plumbing for most
programs: "ask for input", "text", "get variable".) The silhouette score (cosine, in z space) says how
well the labels separate.
"""

from __future__ import annotations

import io
from collections import Counter

import numpy as np

from sashimi.eval.encoder_exp import program_domain


def domain_of(view, catalog) -> str:
    """EXP-1.1's domain of a gold `ProgramView` (canonical action names resolved through the catalog)."""
    idents = [catalog.resolve(a) or a for a in view.action_names]
    return program_domain(idents, catalog)


def project(z: np.ndarray, *, seed: int = 0, use_umap: bool = True) -> dict[str, np.ndarray | str]:
    """{"pca": (N, 2), "pca_explained": ..., "umap": (N, 2) or a note string}."""
    from sklearn.decomposition import PCA

    out: dict = {}
    n_comp = min(2, z.shape[0], z.shape[1])
    pca = PCA(n_components=n_comp, svd_solver="full", random_state=seed)
    pts = pca.fit_transform(z.astype(np.float64))
    if n_comp < 2:
        pts = np.pad(pts, ((0, 0), (0, 2 - n_comp)))
    out["pca"] = pts
    out["pca_explained"] = [float(x) for x in pca.explained_variance_ratio_]
    if not use_umap:
        out["umap"] = "UMAP switched off (--no-umap)"
        return out
    try:
        import umap  # optional dependency (umap-learn)
    except ImportError:
        out["umap"] = "umap-learn is not installed: UMAP map skipped (pip install umap-learn)"
        return out
    if z.shape[0] < 5:
        out["umap"] = f"UMAP needs at least 5 points, got {z.shape[0]}"
        return out
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(15, z.shape[0] - 1), random_state=seed, n_jobs=1, metric="cosine"
    )
    out["umap"] = reducer.fit_transform(z.astype(np.float32)).astype(np.float64)
    return out


def silhouette(z: np.ndarray, labels: list[str]) -> float | None:
    """Cosine silhouette of `labels` in z space (None when fewer than 2 labels or too few points)."""
    from sklearn.metrics import silhouette_score

    n_labels = len(set(labels))
    if n_labels < 2 or n_labels >= len(labels):
        return None
    return float(silhouette_score(z, labels, metric="cosine"))


def map_png(points: np.ndarray, panels: dict[str, list[str]], title: str) -> bytes:
    """One scatter per labelling (same points), legend with counts, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 5.5), dpi=100, squeeze=False)
    cmap = plt.get_cmap("tab20")
    for ax, (name, labels) in zip(axes[0], panels.items(), strict=True):
        for k, (lab, count) in enumerate(Counter(labels).most_common()):
            mask = np.array([x == lab for x in labels])
            ax.scatter(
                points[mask, 0],
                points[mask, 1],
                s=10,
                alpha=0.75,
                color=cmap(k % 20),
                label=f"{lab} ({count})",
            )
        ax.set_title(f"{title}: by {name}", fontsize=10)
        ax.set_xlabel("component 1")
        ax.set_ylabel("component 2")
        ax.legend(fontsize=7, markerscale=1.5, loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version stamp: same bytes each run
    plt.close(fig)
    return buf.getvalue()
