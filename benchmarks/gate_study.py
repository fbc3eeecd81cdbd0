"""Why the domain gate misses its bar: a study on the TRAINING templates only (EXP-1.2 follow-up).

For each template split seed s (the same 80/20 GroupShuffleSplit as `sashimi exp gate --seed s`), only
the training part is used; the held-out 20 % is never read (except by `--held-out`, below). On the
training part, 5 folds grouped by template give out-of-fold scores, and each variant is summarised by

- `recall_at_p99`: the most OOD prompts refused while refusals stay >= 99 % OOD (the plan's precision
  bar), as a share of all OOD prompts: the recall the bar would allow if the threshold were perfect;
- `auroc`.

Variants:
- `embedding`, `embedding+lexical`: the linear heads of `sashimi exp gate` (frozen MiniLM);
- `learning_curve`: `embedding+lexical` trained with 50 / 75 / 100 % of the OOD training templates of
  each fold: does more template variety still help?
- `finetune`: the last K MiniLM layers fine-tuned per fold (binary cross-entropy through a linear head on
  the pooled, normalised embedding), then a linear probe on the fine-tuned embedding; and that probe's
  score fused with `embedding+lexical` (sum of z-scored logits). This is the plan's remedy when the
  frozen encoder separates poorly (EXP-1.1 said "fine-tune" for the real corpus);
- `held_out` (with `--held-out`): for the split seeds with fine-tuning, the protocol of `sashimi exp
  gate` applied to the fine-tuned fusions: each component refitted on the whole training part, fused with
  the out-of-fold z-score statistics, threshold = the most OOD refused at >= 99 % precision on the
  out-of-fold fused scores; then the held-out templates are scored ONCE (precision, recall, false
  reject, and false reject on `--real-dev` when given). This part reads the held-out 20 %. With
  `--blind FILE` (issue 16's hand-written blind set) the same refitted fusions, and the frozen
  `embedding+lexical` head beside them, also score that file once: false accepts and rejects, AUROC, OOD
  accept rate per category. Nothing is ever fitted or chosen on it;
- `--canonical`: every request read as the shipped gate reads it (`canonical_request`: address and
  politeness wrappers off), for a set the shipped gate was fitted that way on (issue 16's `ood16`).
- `ranking_top`: for `embedding+lexical`, which sources the in-domain prompts come from that score as
  OOD above the cut where 95 % of OOD would be refused (counts by source only: real prompts are external
  data and are never printed).

Usage (needs the OOD set of `benchmarks/reproduce.sh`, which needs ../shared):
    python benchmarks/gate_study.py --ood runs/bench/ood.jsonl --out runs/bench/gate_study
Writes `study.json`, `run.json` and `recall_at_p99.png` into --out. About 2 minutes without fine-tuning
(`--finetune-seeds 0`), plus about 5 minutes per fine-tuning seed on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from sashimi.errors import SashimiError
from sashimi.eval.gate_exp import embed_real_dev, load_labelled
from sashimi.eval.metrics import meets_bar, ood_metrics, precision_threshold, recall_at_precision
from sashimi.model.encoder import Encoder
from sashimi.train import gate_adapter as gate_lora  # the fine-tuned gate encoder (LoRA adapters)

FOLDS = 5
PRECISION = 0.99


def summary(ood_score: np.ndarray, is_ood: np.ndarray) -> dict:
    """recall at 99 % precision and AUROC of OOD scores (higher = more OOD)."""
    return {
        # metrics take in-domain scores (refused when low): the OOD score negated
        "recall_at_p99": round(recall_at_precision(-ood_score, is_ood, PRECISION), 4),
        "auroc": round(float(roc_auc_score(is_ood, ood_score)), 4),
    }


def zscore(a: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """a standardised with the mean and spread of ref (default: a itself)."""
    ref = a if ref is None else ref
    return (a - ref.mean()) / (ref.std() + 1e-12)


class Study:
    def __init__(
        self,
        ood_path: Path,
        cache_dir: Path | None,
        real_dev: Path | None = None,
        canonical: bool = False,
        blind: Path | None = None,
    ) -> None:
        from sashimi.model.gate import canonical_request

        rows = load_labelled(ood_path, need_template=True)
        # canonical: each request read as the shipped gate reads it (address and politeness wrappers off)
        read = canonical_request if canonical else (lambda text: text)
        self.texts = np.array([read(r["prompt"]) for r in rows], dtype=object)
        self.groups = np.array([r["template_id"] for r in rows])
        self.is_ood = np.array([r["label"] == "ood" for r in rows])
        self.encoder = Encoder(cache_dir)
        self.emb = self.encoder.embed(list(self.texts))
        dev_texts, dev_emb = embed_real_dev(self.encoder, real_dev)  # real in-domain prompts, scored only
        # the texts scored after the held-out rows and never fitted on: real dev (already canonical:
        # embed_real_dev), then the blind set's; `n_dev` marks where the blind ones start
        self.scored_texts = dev_texts or []
        self.scored_emb = dev_emb if dev_emb is not None else self.emb[:0]
        self.n_dev = len(self.scored_texts)
        self.blind_is_ood, self.blind_category = np.zeros(0, bool), []
        if blind is not None:  # scored after the real dev prompts, never fitted on (--held-out only)
            rows = load_labelled(blind)
            texts = [read(r["prompt"]) for r in rows]
            self.blind_is_ood = np.array([r["label"] == "ood" for r in rows])
            self.blind_category = [r.get("category", "") for r in rows]
            self.scored_texts = self.scored_texts + texts
            self.scored_emb = np.vstack([self.scored_emb, self.encoder.embed(texts)])

    def split(self, seed: int) -> np.ndarray:
        from sklearn.model_selection import GroupShuffleSplit

        train, _ = next(
            GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed).split(
                self.emb, self.is_ood, self.groups
            )
        )
        return train

    def folds(self, idx: np.ndarray):
        from sklearn.model_selection import GroupKFold

        for a, b in GroupKFold(n_splits=FOLDS).split(idx, self.is_ood[idx], self.groups[idx]):
            yield idx[a], idx[b]

    def lexical(self, idx: np.ndarray):
        from sashimi.model.gate import LexicalView

        own = [t for t, g in zip(self.texts[idx], self.groups[idx], strict=True) if not g.startswith("real/")]
        return LexicalView.fit(own)

    def linear_score(self, a: np.ndarray, b: np.ndarray, features: str, dev: bool = False) -> np.ndarray:
        """OOD logits on rows b (then `scored_texts`: real dev and blind prompts, with dev) of the linear head fitted on rows a
        (the settings of sashimi.model.gate.fit_gate)."""
        from sklearn.linear_model import LogisticRegression

        xa, xb = self.emb[a], self.emb[b]
        texts_b = list(self.texts[b])
        if dev:
            xb, texts_b = np.vstack([xb, self.scored_emb]), texts_b + self.scored_texts
        if features == "lexical":
            xa, xb = xa[:, :0], xb[:, :0]
        if features != "embedding":
            lex = self.lexical(a)
            xa = np.hstack([xa, lex.transform(list(self.texts[a]))])
            xb = np.hstack([xb, lex.transform(texts_b)])
        clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000).fit(xa, self.is_ood[a])
        return clf.decision_function(xb)

    def linear_oof(self, idx: np.ndarray, features: str, ood_template_share: float = 1.0, seed: int = 0):
        """Out-of-fold OOD logits of the linear head on the training part idx."""
        rng = np.random.default_rng(seed)
        out = np.zeros(len(idx))
        pos = {i: k for k, i in enumerate(idx)}
        for a, b in self.folds(idx):
            if ood_template_share < 1.0:
                ood_templates = sorted(set(self.groups[a][self.is_ood[a]]))
                keep = set(
                    rng.choice(ood_templates, int(ood_template_share * len(ood_templates)), replace=False)
                )
                a = np.array([i for i in a if not self.is_ood[i] or self.groups[i] in keep])
            out[[pos[i] for i in b]] = self.linear_score(a, b, features)
        return out

    def finetune_oof(
        self, idx: np.ndarray, config, seed: int, score_texts: list[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Out-of-fold OOD logits of a fine-tuned gate encoder (benchmarks/gate_lora.py) per fold; with
        score_texts, also a model fitted on the whole of idx and its logits on those texts."""
        from tqdm import tqdm

        states = self.encoder.hidden_states(list(self.texts), config.first_layer)
        out = np.zeros(len(idx))
        pos = {i: n for n, i in enumerate(idx)}
        jobs = [(a, b) for a, b in self.folds(idx)] + ([(idx, None)] if score_texts is not None else [])
        extra = None
        for a, b in tqdm(jobs, desc=f"fine-tune layers={config.layers} rank={config.rank}", file=sys.stderr):
            model = gate_lora.train(self.encoder, [states[i] for i in a], self.is_ood[a], config, seed=seed)
            if b is not None:
                out[[pos[i] for i in b]] = gate_lora.ood_logits(model, [states[i] for i in b])
            else:
                extra = gate_lora.ood_logits(
                    model, self.encoder.hidden_states(score_texts, config.first_layer)
                )
        return out, extra


def source(group: str) -> str:
    return group.split("/")[0] + ("/contrast" if group.startswith("own/contrast") else "")


def ranking_top(study: Study, idx: np.ndarray, score: np.ndarray, recall: float = 0.95) -> dict:
    """In-domain prompts scored above the cut that refuses `recall` of the OOD prompts, by source."""
    ood = study.is_ood[idx]
    order = np.argsort(-score, kind="stable")
    need = int(np.ceil(recall * ood.sum()))
    cut = order[: int(np.flatnonzero(np.cumsum(ood[order]) >= need)[0]) + 1]
    inside = [study.groups[idx][j] for j in cut if not ood[j]]
    return {"n_in_domain_above_cut": len(inside), "by_source": dict(Counter(map(source, inside)))}


def held_out_metrics(
    oof: dict,
    refit: dict,
    is_ood_oof: np.ndarray,
    is_ood_test: np.ndarray,
    n_test: int,
    n_dev: int | None = None,
    blind: tuple[np.ndarray, list[str]] | None = None,
) -> dict:
    """`sashimi exp gate`'s protocol for a sum of z-scored OOD logits.

    oof[k]: out-of-fold logits of component k on the training part; refit[k]: logits of k refitted on the
    whole training part, on the held-out rows first (n_test of them), then on the real dev prompts (n_dev;
    default: all the rest), then on the blind set's prompts (`blind`: their labels and categories), if any.
    Both are z-scored with the out-of-fold statistics; the threshold comes from the out-of-fold sum only.
    """

    def fused(parts: dict) -> np.ndarray:
        z = sum(zscore(parts[k], oof[k]) for k in oof)
        return 1.0 / (1.0 + np.exp(np.clip(z, -50, 50)))  # an in-domain score in (0, 1), as the gate's

    threshold = precision_threshold(fused(oof), is_ood_oof)
    scores = fused(refit)
    test = ood_metrics(scores[:n_test], is_ood_test, threshold)
    out = {k: test[k] for k in ("precision", "recall", "false_reject_rate", "auroc", "confusion")}
    out["meets_bar"] = meets_bar(test)
    n_dev = len(scores) - n_test if n_dev is None else n_dev  # no blind set: every extra text is real dev
    dev = scores[n_test : n_test + n_dev]
    if len(dev):
        out["real_dev_false_reject_rate"] = round(float(np.mean(dev < threshold)), 4)
    if blind is not None and len(blind[0]):
        is_ood, categories = blind
        categories = np.array(categories, dtype=object)
        accepted = scores[n_test + n_dev :] >= threshold
        out["blind"] = {
            "false_accept_rate": round(float(accepted[is_ood].mean()), 4),
            "false_accepts": f"{int(accepted[is_ood].sum())}/{int(is_ood.sum())}",
            "false_reject_rate": round(float((~accepted[~is_ood]).mean()), 4),
            "false_rejects": f"{int((~accepted[~is_ood]).sum())}/{int((~is_ood).sum())}",
            "auroc": round(float(roc_auc_score(is_ood, -scores[n_test + n_dev :])), 4),
            "ood_accept_rate_by_category": {
                c: round(float(accepted[is_ood & (categories == c)].mean()), 3)
                for c in sorted(set(categories[is_ood]))
            },
        }
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["variants"])
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(names) + 1.2))
    for y, name in enumerate(names):  # horizontal bars: the variant names stay readable
        vals = [r["recall_at_p99"] for r in result["variants"][name]]
        ax.barh(y, np.mean(vals), color="#8fb3d9", height=0.6)
        ax.scatter(vals, [y] * len(vals), color="#1f3b5c", zorder=3, s=14)
        ax.text(1.01, y, f"{np.mean(vals):.3f}", va="center", fontsize=7)
    ax.axvline(0.95, color="#c0392b", ls="--", lw=1, label="bar: recall 0.95 at precision 0.99")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("OOD recall at 99% precision (out-of-fold, training templates)")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(
        "Domain gate: what the training templates allow (bars = mean, dots = split seeds)", fontsize=9
    )
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=130)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ood", type=Path, required=True, help="labelled OOD set (sashimi data ood)")
    ap.add_argument("--out", type=Path, required=True, help="run folder")
    ap.add_argument("--seeds", type=int, default=3, help="number of template split seeds, from --first-seed")
    ap.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="first template split seed (per-seed results do not depend on it)",
    )
    ap.add_argument(
        "--finetune-seeds",
        type=int,
        default=1,
        help="how many of those seeds, from the first, fine-tune (0: skip)",
    )
    ap.add_argument(
        "--finetune",
        nargs="*",
        default=["lora:layers=3,rank=8,lr=1e-3", "full:layers=3,rank=0,lr=1e-4"],
        help="fine-tuning variants NAME:key=value,... (gate_lora.LoRAConfig; rank=0 = "
        "every weight of the top layers learns)",
    )
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="also score the held-out templates once with the fine-tuned fusions (sashimi exp gate's protocol)",
    )
    ap.add_argument(
        "--real-dev", type=Path, default=None, help="real dev split JSONL: false reject there (--held-out)"
    )
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument(
        "--blind",
        type=Path,
        default=None,
        help="labelled blind set (with --held-out): scored once by each refitted fusion, never fitted on",
    )
    ap.add_argument(
        "--canonical",
        action="store_true",
        help="read every request as the shipped gate does (canonical_request)",
    )
    args = ap.parse_args(argv)
    if args.blind is not None and not args.held_out:
        ap.error("--blind needs --held-out (the blind set is scored by the refitted fusions)")
    from sashimi.io import run_metadata, write_json

    started = time.time()
    try:
        finetunes = {}
        for spec in args.finetune:
            name, _, kv = spec.partition(":")
            pairs = dict(item.split("=", 1) for item in kv.split(",") if item)
            finetunes[f"fine-tuned {name}"] = gate_lora.LoRAConfig.from_dict(pairs)
        study = Study(args.ood, args.cache_dir, args.real_dev, canonical=args.canonical, blind=args.blind)
    except SashimiError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    variants: dict[str, list[dict]] = {}
    tops, held_out = [], []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        idx = study.split(seed)
        ood = study.is_ood[idx]
        rest = np.setdiff1d(np.arange(len(study.texts)), idx)
        score_texts = list(study.texts[rest]) + study.scored_texts if args.held_out else None
        both = study.linear_oof(idx, "embedding+lexical")
        scores = {"embedding": study.linear_oof(idx, "embedding")}
        for share in (0.5, 0.75):  # the learning curve over OOD template variety, then the full set
            name = f"embedding+lexical {int(share * 100)}% OOD templates"
            scores[name] = study.linear_oof(idx, "embedding+lexical", share, seed)
        scores["embedding+lexical"] = both
        scores["lexical"] = study.linear_oof(idx, "lexical")
        refit = {}  # components refitted on the whole training part: logits on held-out rows + real dev
        finetuning = seed < args.first_seed + args.finetune_seeds
        if args.held_out and finetuning:
            for features in ("lexical", "embedding+lexical"):
                refit[features] = study.linear_score(idx, rest, features, dev=True)
        report = {"seed": seed}
        for name, config in finetunes.items() if finetuning else ():
            ft, ft_refit = study.finetune_oof(idx, config, seed, score_texts if refit else None)
            scores[name] = ft
            scores[f"{name} + lexical"] = zscore(ft) + zscore(scores["lexical"])
            scores[f"{name} + embedding+lexical"] = zscore(ft) + zscore(both)
            if refit:
                for other in ("lexical", "embedding+lexical"):
                    report[f"{name} + {other}"] = held_out_metrics(
                        {name: ft, other: scores[other]},
                        {name: ft_refit, other: refit[other]},
                        ood,
                        study.is_ood[rest],
                        len(rest),
                        study.n_dev,
                        (study.blind_is_ood, study.blind_category),
                    )
        if refit:
            report["embedding+lexical"] = held_out_metrics(
                {"e": both},
                {"e": refit["embedding+lexical"]},
                ood,
                study.is_ood[rest],
                len(rest),
                study.n_dev,
                (study.blind_is_ood, study.blind_category),
            )
            held_out.append(report)
            print(
                f"seed {seed} held out: "
                + ", ".join(
                    f"{k} P {v['precision']} R {v['recall']}" for k, v in report.items() if k != "seed"
                ),
                file=sys.stderr,
            )
        for name, s in scores.items():
            variants.setdefault(name, []).append({"seed": seed, **summary(s, ood)})
        tops.append({"seed": seed, **ranking_top(study, idx, scores["embedding+lexical"])})
        print(
            f"seed {seed}: "
            + ", ".join(
                f"{k} {v[-1]['recall_at_p99']}" for k, v in variants.items() if v[-1]["seed"] == seed
            ),
            file=sys.stderr,
        )
    result = {
        "ood_file": str(args.ood),
        "n": int(len(study.texts)),
        "protocol": f"training part of each 80/20 template split; {FOLDS} template-grouped folds; held-out part never read",
        "precision_target": PRECISION,
        "variants": variants,
        "mean_recall_at_p99": {
            k: round(float(np.mean([r["recall_at_p99"] for r in v])), 4) for k, v in variants.items()
        },
        "ranking_top_embedding+lexical": tops,
        "finetune": {name: c.to_dict() for name, c in finetunes.items()},
        "finetune_seeds": args.finetune_seeds,
        "held_out": held_out,
        "held_out_meets_bar": {
            k: f"{sum(r[k]['meets_bar'] for r in held_out)}/{len(held_out)}"
            for k in (held_out[0] if held_out else {})
            if k != "seed"
        },
        "seconds": round(time.time() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "study.json", result)
    write_json(
        args.out / "run.json",
        run_metadata(
            {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            started=started,
            metrics=result,
        ),
    )
    plot(result, args.out / "recall_at_p99.png")
    print(f"wrote {args.out / 'study.json'} and {args.out / 'recall_at_p99.png'} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
