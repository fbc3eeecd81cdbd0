"""The markdown report and the heatmap of `sashimi interpret` (ids, action names and word pieces only)."""

from __future__ import annotations

import io

import numpy as np


def heatmap_png(heads: dict[str, dict], title: str) -> bytes:
    """Pairwise sign agreement of the top actions' rows, one panel per head (NaN = no co-used unit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(heads)
    fig, axes = plt.subplots(1, n, figsize=(8.5 * n, 7.5), dpi=100, squeeze=False)
    for ax, (name, head) in zip(axes[0], heads.items(), strict=True):
        labels = [a["action"] for a in head["actions"]]
        mat = np.array(
            [[np.nan if x is None else x for x in row] for row in head["sign_agreement"]], dtype=float
        ).reshape(len(labels), len(labels))
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="lightgrey")
        im = ax.imshow(np.ma.masked_invalid(mat), cmap=cmap, vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        kind = "ternary" if head["head_is_ternary"] else "continuous head, codes if quantised"
        ax.set_title(f"{name} ({kind}): sign agreement on co-used units", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render(result: dict) -> str:
    """report.md of one interpretation (result = interpret.json's content)."""
    run, w, attr, bott = result["run"], result["weights"], result["attribution"], result["bottleneck"]
    lines = [
        f"# Interpretation of `{run['run_dir']}`",
        "",
        f"Model: regime `{run['weight_regime']}`, d_model {run['d_model']}, bottleneck {run['d_bottleneck']}, "
        f"retrieval k={run['retrieval_k']}. Dev file `{run['data']}`: {run['dev_rows']} rows "
        f"({run['dev_unparseable']} unparseable skipped). Command: `{result['command']}`.",
        "",
        f"## 1. Ternary weight patterns of the top {len(w['lm_head']['actions'])} actions",
        "",
    ]
    for head_name, head in w.items():
        hs = head["head_shares"]
        lines += [
            f"**{head_name}** ({'ternary' if head['head_is_ternary'] else 'continuous: codes are what quantisation would give'}; "
            f"shape {head['shape'][0]} x {head['shape'][1]}, gamma {head['gamma']:.4g}); whole head "
            f"-1/0/+1 = {_pct(hs['neg'])} / {_pct(hs['zero'])} / {_pct(hs['pos'])}; mean pairwise sign "
            f"agreement of the top actions on co-used units {_num(head['mean_offdiag_agreement'])} "
            "(0.5 = chance).",
            "",
        ]
    lm, bag = w["lm_head"], w["bag_head"]
    lines += [
        "| # | action | train count | lm_head -1 / 0 / +1 | bag_head -1 / 0 / +1 |",
        "|---|---|---|---|---|",
    ]
    for i, (a, b) in enumerate(zip(lm["actions"], bag["actions"], strict=True), start=1):
        lines.append(
            f"| {i} | `{a['action']}` | {a['training_count']} | {_pct(a['neg'])} / {_pct(a['zero'])} / "
            f"{_pct(a['pos'])} | {_pct(b['neg'])} / {_pct(b['zero'])} / {_pct(b['pos'])} |"
        )
    lines += [
        "",
        "Hidden units of lm_head used by the most top actions (sign: actions with +1 / with -1):",
        "",
    ]
    lines += ["| unit | actions using it | +1 | -1 |", "|---|---|---|---|"]
    for u in lm["top_shared_units"]:
        lines.append(f"| {u['unit']} | {u['n_actions']} | {u['n_pos']} | {u['n_neg']} |")
    lines += ["", "Heatmap: `sign_agreement.png`.", ""]
    ov = attr["overall_shares"]
    lines += [
        "## 2. Which encoder features each action's decision reads",
        "",
        f"{attr['method']}; {attr['occurrences']} (row, action) occurrences over {attr['rows']} dev rows. "
        f"Share of the absolute attribution, all top actions: pooled {_pct(ov['pooled'])}, token states "
        f"{_pct(ov['tokens'])}, retrieved programs {_pct(ov['retrieved'])}"
        + ("" if attr["uses_retrieval"] else " (this run has no retrieval)")
        + ".",
        "",
        "| action | dev rows | pooled | tokens | retrieved | top prompt word pieces (summed attribution) |",
        "|---|---|---|---|---|---|",
    ]
    for a in attr["actions"]:
        words = ", ".join(f"`{t['piece']}` {t['attribution']:.2g}" for t in a["top_words"][:5]) or "-"
        s = a["shares"]
        lines.append(
            f"| `{a['action']}` | {a['rows']} | {_pct(s['pooled'])} | {_pct(s['tokens'])} | "
            f"{_pct(s['retrieved'])} | {words} |"
        )
    lines += [
        "",
        "## 3. Bottleneck maps",
        "",
        f"z of {bott['n']} dev prompts ({bott['dim']} dims). PCA explained variance "
        f"{', '.join(_pct(x) for x in bott['pca_explained'])} (`z_pca.png`); UMAP: "
        + (bott["umap"] if isinstance(bott["umap"], str) else "`z_umap.png`")
        + ".",
        "",
        "| labelling | labels | silhouette (cosine, z space) |",
        "|---|---|---|",
    ]
    for name, info in bott["labellings"].items():
        counts = ", ".join(f"{k} {v}" for k, v in list(info["counts"].items())[:8])
        lines.append(f"| {name} | {counts} | {_num(info['silhouette'])} |")
    lines += ["", f"Domain rule: {bott['domain_rule']}.", ""]
    fl = result.get("failures")
    lines += ["## 4. Failure localisation", ""]
    if fl is None:
        lines += ["Not run: give `--predictions` and `--rows` (a `sashimi evaluate` rows.jsonl).", ""]
    else:
        lines += [
            f"{fl['rows']} dev rows: {fl['exact']} exact, {fl['failed']} failed, each attributed to the first "
            "stage that fails.",
            "",
            "| stage | failed rows | share | of which invalid programs | example ids |",
            "|---|---|---|---|---|",
        ]
        for stage, info in fl["stages"].items():
            ids = ", ".join(f"`{x}`" for x in info["examples"]) or "-"
            lines.append(
                f"| {stage} | {info['count']} | {_pct(info['share'])} | {info['invalid_programs']} | {ids} |"
            )
        lines.append("")
    return "\n".join(lines)
