"""Blind-set false accepts of gate-study runs, one bar per template split: the frozen head beside the
fine-tuned variant chosen out of fold (RESULTS §9).

    python benchmarks/gate_blind_plot.py --out docs/figures/gate_lora_blind.png \
        ood16=runs/bench/gate16_lora runs/bench/gate16_lora_s1 runs/bench/gate16_lora_s2 \
        ood17=runs/bench/gate17_lora_s0 runs/bench/gate17_lora_s1 runs/bench/gate17_lora_s2

Arguments: `LABEL=STUDY_DIR` starts a group, plain `STUDY_DIR`s add to it; each folder is one
`gate_study.py --held-out --blind` run (its study.json). The chosen variant is the fine-tuned one with the
highest out-of-fold recall at 99 % precision (ties: the higher out-of-fold AUROC), as the study's protocol
chooses — never by the blind set. A folder whose study has not finished is a one-line error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FROZEN = "embedding+lexical"
BAR = 0.03


def chosen(study: dict) -> tuple[str, dict]:
    """(name, held-out result) of the out-of-fold choice among the fine-tuned variants of one split seed."""
    variants = {k: v[0] for k, v in study["variants"].items() if k.startswith("fine-tuned") and "+" in k}
    name = max(variants, key=lambda k: (variants[k]["recall_at_p99"], variants[k]["auroc"]))
    return name, study["held_out"][0][name]


def read_groups(args: list[str]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    label = None
    for arg in args:
        if "=" in arg:
            label, arg = arg.split("=", 1)
        if label is None:
            raise SystemExit(f"error: {arg}: name its group first (LABEL=STUDY_DIR)")
        path = Path(arg) / "study.json"
        if not path.is_file():
            raise SystemExit(f"error: {path} not found (has the study finished?)")
        study = json.loads(path.read_text())
        if not study.get("held_out"):
            raise SystemExit(f"error: {path} has no held-out results (run gate_study.py with --held-out --blind)")
        groups.setdefault(label, []).append(study)
    return groups


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("studies", nargs="+", metavar="[LABEL=]STUDY_DIR")
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = read_groups(args.studies)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    x, ticks, labels, rows = 0.0, [], [], []
    for label, studies in groups.items():
        for study in studies:
            seed = study["held_out"][0]["seed"]
            name, result = chosen(study)
            frozen = study["held_out"][0][FROZEN]["blind"]["false_accept_rate"]
            tuned = result["blind"]["false_accept_rate"]
            ax.bar(x - 0.2, 100 * frozen, 0.4, color="#9aa5b1", label="frozen head" if not rows else None)
            ax.bar(x + 0.2, 100 * tuned, 0.4, color="#2f6f9f", label="rank-32 adapters, chosen out of fold" if not rows else None)
            ax.text(x + 0.2, 100 * tuned + 0.3, f"{100 * tuned:.1f}", ha="center", fontsize=8)
            ticks.append(x)
            labels.append(f"{label}\nsplit {seed}")
            rows.append({"set": label, "split_seed": seed, "frozen": frozen, "chosen": name, "tuned": tuned})
            x += 1
        x += 0.5
    ax.axhline(100 * BAR, color="#c0392b", linestyle="--", linewidth=1, label="bar (3 %)")
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_ylabel("blind OOD requests accepted (%)")
    ax.set_title("Domain gate on the hand-written blind set (304 OOD requests)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=130)
    tmp.replace(args.out)
    for r in rows:
        print(f"{r['set']} split {r['split_seed']}: frozen {100 * r['frozen']:.1f} %, {r['chosen']} {100 * r['tuned']:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
