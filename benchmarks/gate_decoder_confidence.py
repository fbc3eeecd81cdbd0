"""Does the generator's own confidence help the domain gate? (issue 16 allows the generator's signals; RESULTS §9)

Signal: the shipped model's greedy program for the request (canonical form, decoded without the gate),
its mean log-probability per token under the decoding mask (`SearchResult.score / tokens`). A request a
Shortcut cannot do should leave the decoder less sure which actions to emit.

Rows: the training part of ood17's template split (seed 0: the shipped gate's), out of fold on its five
template-grouped folds — the shipped gate's own out-of-fold logits (linear head + adapters, from the
adapters `sashimi exp gate --adapter --out DIR` kept in DIR/adapters), fused as the gate fuses them. The
decoder was trained on real train-split prompts and on our synthetic corpus, so on those in-domain rows
its confidence is inflated: only in-domain rows it never saw (template ids `own/...`) take part, with
every OOD row. Reported per weight w of the z-scored confidence added to the fused logit: recall at
99 % precision (out of fold), AUROC; and the real dev false rejects at the threshold the precision rule
picks on those rows (through the shipped gate: RESULTS §9's figures were measured with the adapter gate
of the seventh session, before the neighbour margin joined it). Nothing is fitted on the blind set; this
study does not read it.

    python benchmarks/gate_decoder_confidence.py --ood runs/bench/ood17.jsonl --adapters runs/bench/gate_adapter/adapters \\
        --real-dev runs/bench/split/dev.jsonl --out runs/bench/gate_decoder_confidence.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)


def zscore(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (a - ref.mean()) / (ref.std() + 1e-12)


def study_arguments(doc: str) -> argparse.ArgumentParser:
    """The arguments every study on the shipped gate's kept adapters takes (its docstring's first line as
    the description)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--ood", type=Path, required=True)
    ap.add_argument("--adapters", type=Path, required=True, help="the kept adapters of the shipped gate's run")
    ap.add_argument("--real-dev", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=None)
    return ap


def print_and_write(report: dict, out: Path | None) -> None:
    """The study's report on stdout and, with `out`, in that JSON file (written atomically)."""
    from sashimi.io import write_json

    print(json.dumps(report, indent=2))
    if out is not None:
        write_json(out, report)


def gate_figures(score: np.ndarray, is_ood: np.ndarray, dev_score: np.ndarray) -> dict:
    """For in-domain logits `score` (out of fold): recall at 99 % precision, AUROC, and the share of real
    dev requests (logits `dev_score`) refused at the threshold the precision rule picks on `score`."""
    from sashimi.eval.metrics import precision_threshold, recall_at_precision

    prob = 1.0 / (1.0 + np.exp(-np.clip(score, -60, 60)))
    threshold = precision_threshold(prob, is_ood)
    dev_prob = 1.0 / (1.0 + np.exp(-np.clip(dev_score, -60, 60)))
    return {
        "recall_at_p99": round(float(recall_at_precision(prob, is_ood, 0.99)), 4),
        "auroc": round(float(roc_auc_score(is_ood, -score)), 4),
        "real_dev_false_reject_rate": round(float((dev_prob < threshold).mean()), 4),
    }


def out_of_fold(ood: Path, adapters: Path):
    """The adapter gate's out-of-fold parts on the training part of `ood`'s template split (seed 0):
    (embedded data, (x, is_ood, groups, texts) of the training part, the embedding+lexical head's logits,
    the kept fold adapters' OOD logits); None (after a message) when a fold's adapter is not kept."""
    from sashimi.eval.gate_exp import _adapter_key, _load_adapter, _load_embedded, _oof_scores, template_split
    from sashimi.train import gate_adapter as lora

    data = _load_embedded(ood, None, progress=False)
    x, is_ood, groups, texts = data.x, data.is_ood, data.groups, data.texts
    tr, _ = template_split(groups, 0)
    xt, ot, gt, tt = x[tr], is_ood[tr], groups[tr], [texts[i] for i in tr]
    head = _oof_scores("linear", "embedding+lexical", xt, ot, gt, tt, 0, logits=True)
    cfg = lora.LoRAConfig(layers=3, rank=32, lr=1e-3)
    states = data.encoder.hidden_states(tt, cfg.first_layer)
    adapter = np.zeros(len(tr))
    for k, (a, b) in enumerate(GroupKFold(n_splits=5).split(xt, ot, gt)):
        arrays = _load_adapter(adapters / f"fold{k}.safetensors", _adapter_key(cfg, 0, [tt[i] for i in a], ot[a]))
        if arrays is None:
            print(f"error: no kept adapter for fold {k} in {adapters}", file=sys.stderr)
            return None
        adapter[b] = lora.ood_logits(lora.load(data.encoder, cfg, arrays), [states[i] for i in b])
    return data, (xt, ot, gt, tt), head, adapter


def confidences(gen, texts: list[str]) -> np.ndarray:
    """Mean log-probability per token of the generator's greedy program for each (canonical) text."""
    from tqdm import tqdm

    out = np.zeros(len(texts))
    for i, text in enumerate(tqdm(texts, desc="decoding", file=sys.stderr, mininterval=5)):
        pooled, states, _ = gen._encode([text])
        result = gen._search(pooled, states, None, 1)
        out[i] = result.score / max(1, len(result.token_ids))
    return out


def main(argv: list[str] | None = None) -> int:
    args = study_arguments(__doc__).parse_args(argv)

    from sashimi.eval.gate_exp import embed_real_dev
    from sashimi.model.gate import load_gate
    from sashimi.model.generator import Generator

    parts = out_of_fold(args.ood, args.adapters)
    if parts is None:
        return 2
    data, (xt, ot, gt, tt), head, adapter = parts
    fused = zscore(head, head) + zscore(-adapter, -adapter)  # the gate's fused in-domain logit, out of fold

    gen = Generator.load()
    conf = confidences(gen, tt)
    keep = ot | np.array([g.startswith("own/") for g in gt])
    dev_texts, dev_x = embed_real_dev(data.encoder, args.real_dev)
    gate = load_gate(encoder=data.encoder)
    dev_fused = gate.logits(dev_x, dev_texts, data.encoder.hidden_states(dev_texts, gate.tap_layer))
    dev_conf = confidences(gen, dev_texts)

    report = {
        "rows": int(keep.sum()),
        "ood_rows": int(ot[keep].sum()),
        "confidence_auroc_alone": round(float(roc_auc_score(ot[keep], -conf[keep])), 4),
        "confidence_mean": {
            "in_domain_own": round(float(conf[keep & ~ot].mean()), 4),
            "in_domain_seen_by_decoder": round(float(conf[~keep].mean()), 4),
            "ood": round(float(conf[ot].mean()), 4),
            "real_dev": round(float(dev_conf.mean()), 4),
        },
        "weights": {},
    }
    for w in WEIGHTS:
        score = fused[keep] + w * zscore(conf[keep], conf[keep])
        dev_score = dev_fused + w * zscore(dev_conf, conf[keep])
        report["weights"][str(w)] = gate_figures(score, ot[keep], dev_score)
    print_and_write(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
