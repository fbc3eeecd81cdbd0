"""Training cost of the prompt encoder settings (issue 14.4): s/step of frozen / finetune L / scratch.

    nice -n 19 python benchmarks/encoder_speed.py --data /work/runs/split/train.jsonl \
        [--matrix configs/ablation/encoder.yaml] [--steps 20] [--out runs/encoder_speed.json]

The data is prepared once (frozen features from the on-disk cache, plus each trainable encoder's inputs:
the cached MiniLM hidden states below the fine-tuned layers, or word-piece ids), then the runs of the
matrix take one optimiser step each in turn (round robin, the same batch rows for every run at a
given step) for `--steps` rounds after 2 untimed warm-up rounds. Interleaving makes the comparison fair
on a shared machine whose load drifts; the report gives the median wall time per step and the median
CPU time per step (`time.process_time`, one torch thread: what an idle core would take), and the ratio
of each to the frozen run's. A step = collate + forward (all losses) + backward + clip + AdamW, as in
`sashimi train`; the encoder inputs are already on disk, as they are in training.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

from sashimi.io import write_json
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.encoder import Encoder
from sashimi.train.config import load_config
from sashimi.train.data import Dataset, collate
from sashimi.train.losses import LossWeighting
from sashimi.train.trainer import (
    _batch_rows,
    _forward_losses,
    add_encoder_inputs,
    encoder_lr_scale,
    prepare,
)


def _overrides(mapping: dict) -> list[str]:
    return [f"{k}={json.dumps(v)}" for k, v in mapping.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True, help="training corpus file(s) (e.g. the real split)")
    ap.add_argument("--matrix", default="configs/ablation/encoder.yaml")
    ap.add_argument("--steps", type=int, default=20, help="timed rounds (each run takes one step per round)")
    ap.add_argument("--out", default=None, help="write the report JSON here")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    matrix = yaml.safe_load(Path(args.matrix).read_text())
    common = _overrides(matrix.get("set") or {})
    runs = {r["name"]: _overrides(r.get("set") or {}) for r in matrix["runs"]}
    encoder = Encoder(progress=False)
    base = load_config(matrix["base"], common)
    t0 = time.time()
    prep = prepare(base, args.data, encoder=encoder, log=lambda m: print(m, file=sys.stderr))
    print(f"prepared in {time.time() - t0:.0f}s", file=sys.stderr)

    setups = {}
    for name, extra in runs.items():
        config = load_config(matrix["base"], [*common, *extra])
        mc = config["model"]
        data = Dataset(prep.train.examples, prep.train.pooled, prep.train.token_states)
        if mc["encoder"] != "frozen":
            add_encoder_inputs([data], mc, encoder, lambda m: print(m, file=sys.stderr))
        cfg = DecoderConfig(vocab_size=len(prep.table), **mc)
        torch.manual_seed(0)
        model = SashimiDecoder(cfg)
        if cfg.encoder == "finetune":
            model.prompt_encoder.load_pretrained()
        model.train()
        groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("prompt_encoder.")]}]
        if model.prompt_encoder is not None:
            groups.append(
                {"params": list(model.prompt_encoder.parameters()), "lr": encoder_lr_scale(config) * 1e-3}
            )
        opt = torch.optim.AdamW(groups, lr=1e-3)
        lc = config["loss"]
        weighting = LossWeighting(lc["weighting"], lc["weights"], lc["logvar_clamp"])
        setups[name] = (config, cfg, model, opt, weighting, data)

    lengths = [len(e.ids) for e in prep.train.examples]
    bs = int(base["train"]["batch_size"])
    wall: dict[str, list[float]] = {n: [] for n in setups}
    cpu: dict[str, list[float]] = {n: [] for n in setups}
    load_start = os.getloadavg()
    for step in range(args.steps + 2):
        rows = _batch_rows(step, lengths, bs, 0)
        for name, (config, cfg, model, opt, weighting, data) in setups.items():
            gen = torch.Generator().manual_seed(step)
            w0, c0 = time.perf_counter(), time.process_time()
            batch = collate(
                data,
                rows,
                vocab_size=cfg.vocab_size,
                max_enc_tokens=cfg.max_enc_tokens,
                retrieval=None,
                retrieval_len=cfg.retrieval_len,
                use_negatives=True,
                generator=gen,
            )
            total, _ = _forward_losses(model, weighting, batch, config)
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step >= 2:
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
    ref = "frozen" if "frozen" in setups else next(iter(setups))
    report = {
        "data": args.data,
        "matrix": args.matrix,
        "steps": args.steps,
        "batch_size": bs,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "runs": {
            n: {
                "trainable_params": setups[n][2].param_counts()["trainable"],
                "encoder_params": setups[n][2].param_counts()["encoder"],
                "wall_s_per_step": round(statistics.median(wall[n]), 4),
                "cpu_s_per_step": round(statistics.median(cpu[n]), 4),
                "wall_vs_frozen": round(statistics.median(wall[n]) / statistics.median(wall[ref]), 2),
                "cpu_vs_frozen": round(statistics.median(cpu[n]) / statistics.median(cpu[ref]), 2),
            }
            for n in setups
        },
    }
    print(json.dumps(report, indent=2))
    if args.out:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
