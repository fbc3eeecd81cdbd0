"""A fine-tuned action model for the chooser: LoRA adapters on MiniLM's top layers, multi-label, out of fold.

    python benchmarks/chooser_lora.py REAL_RUN --out runs/chooser_lora [--rank 32] [--layers 3] [--epochs 5]

The chooser's linear action model (MiniLM pooled vector + hashed word tf-idf, one logistic regression
per action) sits on a plateau (docs/RESULTS.md §7.9, §7.10, §7.18). This asks whether a model that can
re-read the request does better: `gate_lora.AdaptedTop` (adapters on every linear map of the top MiniLM
layers, mean pooling, unit norm x temperature) with a head of one logit per action, trained with binary
cross-entropy on the presence of each action (the actions in >= 2 fit-row programs, as `ActionModel`).
Per fold of the real run's training rows (grouped 5-fold, as `chooser_cv.py`), each held-out row picks
among its 50 nearest rows of other families with the chooser's own rule (E[set action-F1] + mix x
cosine) under (a) the linear model's p, (b) the fine-tuned model's p, (c) the mean of the two logits; the
score is the multiset action-F1 of the pick against the row's own actions. Nothing reads real dev.

Writes lora.json (means, paired bootstraps of (b) and (c) against (a), commit, wall time).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chooser_cv import (  # noqa: E402
    candidate_ef1,
    candidate_gains,
    nearest_other_families,
    paired_difference,
    training_rows,
    write_report,
)
from sashimi.train import gate_adapter as gate_lora  # noqa: E402


def fit_actions(encoder, states, labels: np.ndarray, config, seed: int):
    """Adapters + a (384, A) head trained on multi-hot `labels` (N, A), in `gate_lora.fit`'s loop."""
    import torch

    torch.manual_seed(seed)
    model = gate_lora.AdaptedTop(gate_lora.base_layers(encoder, config), config)
    model.head = torch.nn.Linear(model.head.in_features, labels.shape[1])
    with torch.no_grad():  # start at each action's base rate
        rate = labels.mean(0).clip(1e-4, 1 - 1e-4)
        model.head.bias.copy_(torch.as_tensor(np.log(rate / (1 - rate)), dtype=torch.float32))
    y = torch.as_tensor(labels, dtype=torch.float32)
    return gate_lora.fit(model, states, y, torch.nn.functional.binary_cross_entropy_with_logits, config, seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("real_run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--mix", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch
    from sklearn.model_selection import GroupKFold
    from tqdm import tqdm

    from sashimi.model.chooser import ACTION_PREFIX, ActionModel, ChooserConfig
    from sashimi.model.encoder import Encoder

    torch.set_num_threads(1)
    started = time.time()
    pooled, prompts, texts, groups = training_rows(args.real_run)
    config = gate_lora.LoRAConfig(layers=args.layers, rank=args.rank, lr=args.lr, epochs=args.epochs)
    encoder = Encoder()
    states = encoder.hidden_states(prompts, config.first_layer)
    actions = [[t for t in seq if t.startswith(ACTION_PREFIX)] for seq in texts]
    distinct = [set(a) for a in actions]
    order, sims = nearest_other_families(pooled, groups, args.k)
    n = len(prompts)
    gain = candidate_gains(actions, order)  # (N, k)
    cfg = replace(ChooserConfig(), c=16.0, minilm_weight=1.0)
    scores = {name: np.zeros(n) for name in ("linear", "lora", "fused")}
    for fit_rows, held_out in tqdm(list(GroupKFold(5).split(prompts, groups=groups)), desc="folds", file=sys.stderr):
        linear = ActionModel.fit(pooled[fit_rows], [prompts[i] for i in fit_rows], [texts[i] for i in fit_rows], cfg)
        column = {a: j for j, a in enumerate(linear.actions)}
        labels = np.zeros((len(fit_rows), len(column)), np.float32)
        for r, i in enumerate(fit_rows):
            for a in distinct[i]:
                if a in column:
                    labels[r, column[a]] = 1.0
        model = fit_actions(encoder, [states[i] for i in fit_rows], labels, config, args.seed)
        lin_logit = linear.features(pooled[held_out], [prompts[i] for i in held_out]) @ linear.weights + linear.bias
        lora_logit = gate_lora.head_logits(model, [states[i] for i in held_out])
        views = {"linear": lin_logit, "lora": lora_logit, "fused": (lin_logit + lora_logit) / 2}
        for name, logit in views.items():
            p_all = 1.0 / (1.0 + np.exp(-logit))
            for p, i in zip(p_all, held_out, strict=True):
                score = candidate_ef1(p, column, [distinct[r] for r in order[i]]) + args.mix * sims[i, order[i]]
                scores[name][i] = gain[i, int(np.argmax(score))]
        print({k: round(float(v[held_out].mean()), 4) for k, v in scores.items()}, flush=True)
    report = {"rows": n, "means": {k: round(float(v.mean()), 4) for k, v in scores.items()}}
    for name in ("lora", "fused"):
        report[f"{name}_minus_linear"] = paired_difference(scores[name], scores["linear"])
    write_report(args.out, "lora.json", vars(args), started, report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
