"""How much should the adapters weigh against the linear head in the fused gate? (issue 16; RESULTS §9)

The shipped gate's in-domain logit is z_head + z_adapter (each z-scored with its out-of-fold mean and
spread). This scores z_head + w * z_adapter for several w, out of fold on the training part of ood17's
template split (seed 0: the shipped gate's), with the fold adapters its `sashimi exp gate --adapter --out
DIR` run kept in DIR/adapters (nothing is trained): recall at 99 % precision, AUROC, and the real dev false
rejects at the threshold the precision rule picks on those out-of-fold scores. Nothing here reads the
blind set.

    python benchmarks/gate_fusion_weight.py --ood runs/bench/ood17.jsonl --adapters runs/bench/gate_adapter/adapters \\
        --real-dev runs/bench/split/dev.jsonl --out runs/bench/gate_fusion_weight.json [--neighbours]

`--neighbours`: also the head with the neighbour margin (EXP-1.2's "embedding+lexical+neighbours", which
meets the CV bar alone but refuses real dev requests) fused with the adapters at w = 1.
"""

from __future__ import annotations

import sys

import numpy as np

WEIGHTS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def main(argv: list[str] | None = None) -> int:
    from gate_decoder_confidence import gate_figures, out_of_fold, print_and_write, study_arguments, zscore

    ap = study_arguments(__doc__)
    ap.add_argument("--neighbours", action="store_true", help="also: the neighbour-margin head fused with the adapters")
    args = ap.parse_args(argv)

    from sashimi.eval.gate_exp import _adapter_key, _fit, _load_adapter, _oof_scores, embed_real_dev
    from sashimi.eval.metrics import recall_at_precision
    from sashimi.model.spelling import correct_spelling
    from sashimi.train import gate_adapter as lora

    parts = out_of_fold(args.ood, args.adapters)
    if parts is None:
        return 2
    data, (xt, ot, gt, tt), head, adapter = parts
    z_head, z_adapter = zscore(head, head), zscore(-adapter, -adapter)  # in-domain logits, out of fold

    # real dev through the adapter gate fitted on the whole training part (the head refitted, the kept
    # adapter trained on all of it), read as that gate reads requests (canonical, misspellings corrected)
    head_gate = _fit("linear", "embedding+lexical", xt, ot, gt, tt, 0)
    dev_texts, _ = embed_real_dev(data.encoder, args.real_dev)
    dev_texts = [correct_spelling(t, head_gate.spelling_words)[0] for t in dev_texts]
    dev_x = data.encoder.embed(dev_texts)
    cfg = lora.LoRAConfig(layers=3, rank=32, lr=1e-3)
    arrays = _load_adapter(args.adapters / "all.safetensors", _adapter_key(cfg, 0, tt, ot))
    if arrays is None:
        print(f"error: no kept adapter for the whole training part in {args.adapters}", file=sys.stderr)
        return 2
    dev_states = data.encoder.hidden_states(dev_texts, cfg.first_layer)
    dev_adapter = lora.ood_logits(lora.load(data.encoder, cfg, arrays), dev_states)
    dev_z_head = zscore(head_gate.logits(dev_x, dev_texts), head)
    dev_z_adapter = zscore(-dev_adapter, -adapter)

    report = {"rows": len(tt), "ood_rows": int(ot.sum()), "weights": {}}
    if args.neighbours:  # the head with the neighbour margin in its logit instead (EXP-1.2's "+neighbours")
        nb = _oof_scores("linear", "embedding+lexical+neighbours", xt, ot, gt, tt, 0, logits=True)
        nb_gate = _fit("linear", "embedding+lexical+neighbours", xt, ot, gt, tt, 0)
        dev_nb = nb_gate.logits(dev_x, dev_texts)
        report["neighbour_head"] = gate_figures(zscore(nb, nb) + z_adapter, ot, zscore(dev_nb, nb) + dev_z_adapter)
        report["neighbour_head"]["head_alone_recall_at_p99"] = round(
            float(recall_at_precision(1 / (1 + np.exp(-nb)), ot, 0.99)), 4
        )
    for w in WEIGHTS:
        report["weights"][str(w)] = gate_figures(z_head + w * z_adapter, ot, dev_z_head + w * dev_z_adapter)
    print_and_write(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
