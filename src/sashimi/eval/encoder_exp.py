"""EXP-1.1: is frozen all-MiniLM-L6-v2 good enough for our prompts? (plan §1.1)

Classes are programs with the same sequence of non-comment actions (canonical identifiers, depth-first
in source order, control flow not included). For L2-normalised embeddings the mean cosine over all
pairs follows from class sums, so the numbers are exact (no pair sampling):

    intra = mean cosine over pairs inside classes with >= 2 members
    inter = mean cosine over pairs of prompts from different classes (singletons included)
    separation ratio = intra / inter   -> plan decision: > 1.5 sufficient, 1.0-1.5 fine-tune, < 1.0 replace

Domains (for the silhouette and the map) come from the actions, by this documented rule:

1. each non-comment action gets the category of the core catalog (`sashimi/dsl/core_catalog/*.yaml`);
   actions the core catalog does not list (mostly app intents) get a category from keyword rules on
   their identifier (`KEYWORD_DOMAINS`, first match wins), else `app_intents` for reverse-domain
   identifiers of other vendors, else `general`;
2. the categories in `GENERIC_CATEGORIES` (control flow, scripting, text, lists, clipboard, dates) are
   plumbing every domain uses, so they do not name a domain;
3. the program's domain is its most frequent remaining category (ties: the first one in the program),
   or `general` if none remains.
"""

from __future__ import annotations

import io
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.linter import lint
from sashimi.dsl.parser import parse
from sashimi.errors import DataError, Location, SashimiError
from sashimi.io import atomic_write_bytes, run_metadata, write_json
from sashimi.model.encoder import Encoder

GENERIC_CATEGORIES = frozenset(
    {"control_flow", "scripting", "notes_text", "lists_dicts", "clipboard", "dates"}
)
KEYWORD_DOMAINS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("health", "workout", "fitness", "medication"), "health"),
    (("timer", "alarm", "stopwatch"), "timers_alarms"),
    (("calendar", "reminder", "event"), "calendar_reminders"),
    (("music", "podcast", "spotify", "playback", "song", "playlist", "radio"), "music_playback"),
    (("message", "mail", "phone", "contact", "facetime", "whatsapp", "telegram", "slack"), "messaging_mail"),
    (("photo", "camera", "image", "video", "screenshot", "recordaudio"), "photos_media"),
    (("file", "folder", "document", "dropbox", "pdf", "zip"), "files"),
    (("map", "location", "weather", "address", "travel"), "location_maps"),
    (("url", "web", "safari", "http", "rss", "browser", "article"), "web_api"),
    (
        (
            "bluetooth",
            "wifi",
            "vpn",
            "airplane",
            "brightness",
            "volume",
            "donotdisturb",
            "focus",
            "lowpower",
            "appearance",
            "cellular",
            "hotspot",
            "setting",
            "flashlight",
            "orientation",
            "sound",
        ),
        "device_settings",
    ),
    (("note", "text", "translate", "dictate"), "notes_text"),
)
DECISIONS = ((1.5, "sufficient"), (1.0, "fine-tune"), (float("-inf"), "replace"))


def decision_for(ratio: float) -> str:
    """Plan §1.1: > 1.5 encoder sufficient, 1.0-1.5 domain fine-tuning, < 1.0 consider another encoder."""
    if ratio > 1.5:
        return "sufficient"
    return "fine-tune" if ratio >= 1.0 else "replace"


def action_category(identifier: str, catalog) -> str:
    spec = catalog.get(identifier)
    if spec is not None:
        return spec.category
    low = identifier.lower()
    for words, domain in KEYWORD_DOMAINS:
        if any(w in low for w in words):
            return domain
    if not low.startswith("is.workflow.actions.") and low.count(".") >= 2:
        return "app_intents"
    return "general"


def program_domain(identifiers: list[str], catalog) -> str:
    cats = [action_category(i, catalog) for i in identifiers]
    specific = [c for c in cats if c not in GENERIC_CATEGORIES and c != "general"]
    if not specific:
        return "general"
    counts = Counter(specific)
    best = max(counts.values())
    return next(c for c in specific if counts[c] == best)


def action_sequence(program: str, catalog) -> tuple[str, ...] | None:
    """Resolved identifiers of the non-comment actions, or None if the text does not parse (even linted)."""
    try:
        ir = parse(program)
    except SashimiError:
        try:
            ir = parse(lint(program, catalog).text)
        except SashimiError:
            return None
    out = []
    for action in ir.all_actions():
        ident = catalog.resolve(action.action_name) or action.action_name
        if ident != "is.workflow.actions.comment":
            out.append(ident)
    return tuple(out)


def class_similarity(emb: np.ndarray, labels: list) -> dict:
    """Exact mean intra- and inter-class cosine for L2-normalised rows, from per-class sums."""
    n = len(labels)
    groups: dict = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, []).append(i)
    total = emb.sum(axis=0)
    all_pairs_sum = float(total @ total) - float((emb * emb).sum())  # sum over ordered pairs i != j
    intra_sum = intra_pairs = 0.0
    within_sum_all = 0.0
    sizes = []
    for idx in groups.values():
        s = emb[idx].sum(axis=0)
        pair_sum = float(s @ s) - float((emb[idx] * emb[idx]).sum())
        within_sum_all += pair_sum
        sizes.append(len(idx))
        if len(idx) >= 2:
            intra_sum += pair_sum
            intra_pairs += len(idx) * (len(idx) - 1)
    inter_pairs = n * n - sum(k * k for k in sizes)
    intra = intra_sum / intra_pairs if intra_pairs else float("nan")
    inter = (all_pairs_sum - within_sum_all) / inter_pairs if inter_pairs else float("nan")
    ge2 = [k for k in sizes if k >= 2]
    return {
        "intra": intra,
        "inter": inter,
        "n_classes": len(groups),
        "n_classes_ge2": len(ge2),
        "n_prompts_in_classes_ge2": sum(ge2),
        "largest_class": max(sizes) if sizes else 0,
    }


def _map_png(points: np.ndarray, domains: list[str], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [d for d, _ in Counter(domains).most_common()]
    cmap = plt.get_cmap("tab20")
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    for k, name in enumerate(names):
        mask = np.array([d == name for d in domains])
        ax.scatter(
            points[mask, 0],
            points[mask, 1],
            s=7,
            alpha=0.7,
            color=cmap((2 * k) % 20 + (k // 10) % 2),
            label=f"{name} ({mask.sum()})",
        )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.legend(fontsize=7, markerscale=2, loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def run_encoder_experiment(
    data: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    catalog=None,
    progress: bool | None = None,
) -> dict:
    """Run EXP-1.1 on a corpus file; write metrics.json, run.json and the 2-D map into `out_dir`."""
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_samples

    started = time.time()
    out_dir = Path(out_dir)
    catalog = catalog or Catalog.core()
    rows = load_corpus(data)
    if len(rows) < 3:
        raise DataError(f"need at least 3 rows, found {len(rows)}", Location(str(data)))
    seqs = [action_sequence(r.program, catalog) for r in rows]
    keep = [i for i, s in enumerate(seqs) if s is not None]
    if len(keep) < 3:
        raise DataError("fewer than 3 programs parse; nothing to measure", Location(str(data)))
    prompts = [rows[i].prompt for i in keep]
    labels = [seqs[i] for i in keep]
    domains = [program_domain(list(seqs[i]), catalog) for i in keep]

    encoder = Encoder(cache_dir, progress=progress)  # the cold encoding is most of the run
    t0 = time.perf_counter()
    emb = encoder.embed(prompts)
    encode_seconds = time.perf_counter() - t0

    sim = class_similarity(emb, labels)
    ratio = sim["intra"] / sim["inter"] if sim["inter"] > 0 else float("nan")
    counts = Counter(domains)
    valid = [i for i, d in enumerate(domains) if counts[d] >= 2]
    sil_mean, sil_by = float("nan"), {}
    if len({domains[i] for i in valid}) >= 2:
        sub_dom = [domains[i] for i in valid]
        sil = silhouette_samples(emb[valid], sub_dom, metric="cosine")
        sil_mean = float(sil.mean())
        sil_by = {
            d: round(float(sil[[j for j, x in enumerate(sub_dom) if x == d]].mean()), 4)
            for d in counts
            if counts[d] >= 2
        }

    try:  # UMAP when installed (plan), else PCA
        import umap  # type: ignore[import-not-found]

        points = umap.UMAP(n_components=2, random_state=seed, metric="cosine").fit_transform(emb)
        projection = "umap"
    except ImportError:
        points = PCA(n_components=2, random_state=seed).fit_transform(emb)
        projection = "pca"
    png_name = f"map_{projection}.png"
    title = (
        f"EXP-1.1 {Path(data).name}: MiniLM prompts, {projection.upper()}, coloured by domain\n"
        f"separation ratio {ratio:.3f} ({decision_for(ratio)}), silhouette {sil_mean:.3f}"
    )
    atomic_write_bytes(out_dir / png_name, _map_png(np.asarray(points), domains, title))

    result = {
        "experiment": "EXP-1.1",
        "data": str(data),
        "n_rows": len(rows),
        "n_prompts": len(prompts),
        "n_unparsed": len(rows) - len(keep),
        "encoder": encoder.model_id,
        "encode_seconds": round(encode_seconds, 3),
        "encoded_now": encoder.encoded_count,
        "classes": {k: v for k, v in sim.items() if k not in ("intra", "inter")},
        "intra_class_cosine": round(sim["intra"], 4),
        "inter_class_cosine": round(sim["inter"], 4),
        "separation_ratio": round(ratio, 4),
        "decision": decision_for(ratio),
        "decision_rule": "ratio > 1.5 sufficient; 1.0-1.5 fine-tune; < 1.0 replace (plan 1.1)",
        "silhouette_by_domain": round(sil_mean, 4),
        "silhouette_per_domain": sil_by,
        "domain_counts": dict(counts.most_common()),
        "domain_rule": "core-catalog category of the non-comment actions, generic categories skipped, "
        "keyword rules for uncatalogued identifiers, most frequent wins (see sashimi.eval.encoder_exp)",
        "projection": projection,
        "map_png": png_name,
        "seconds": round(time.time() - started, 2),
    }
    write_json(out_dir / "metrics.json", result)
    write_json(
        out_dir / "run.json", run_metadata({"data": str(data), "seed": seed}, started=started, metrics=result)
    )
    return result
