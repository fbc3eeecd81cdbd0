"""The driver of `sashimi interpret`: load the run and the dev rows once, run the four parts, write."""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from sashimi.dsl.corpus import load_corpus
from sashimi.errors import DataError, Location
from sashimi.eval.harness import Scorer, prepare_gold
from sashimi.eval.interpret.attribution import attribute, word_pieces
from sashimi.eval.interpret.bottleneck import domain_of, map_png, project, silhouette
from sashimi.eval.interpret.failures import localise
from sashimi.eval.interpret.report import heatmap_png, render
from sashimi.eval.interpret.weights import top_actions, weight_patterns
from sashimi.eval.predictions import GoldRow, read_predictions
from sashimi.io import atomic_write_bytes, atomic_write_text, read_jsonl, run_metadata, write_json
from sashimi.model.catalogs import model_catalog
from sashimi.model.checkpoint import load_run
from sashimi.model.encoder import Encoder
from sashimi.train.data import build_examples, parse_rows

DOMAIN_RULE_EXP11 = (
    "EXP-1.1's rule: the most frequent catalog category of the gold program's actions, plumbing "
    "categories (scripting, text, lists, dates, clipboard, control flow) left out; 'general' if none remains"
)
DOMAIN_RULE_META = "the first domain of the row in the synthetic corpus metadata file"


def _clean(obj):
    """JSON-ready copy: numpy scalars to Python, floats rounded to 6 digits, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return None if math.isnan(x) or math.isinf(x) else round(x, 6)
    return obj


def _metadata_domains(path: Path) -> dict[str, str]:
    out = {}
    for i, row in enumerate(read_jsonl(path), start=1):
        if not isinstance(row.get("shortcut_id"), str) or not isinstance(row.get("domains"), list):
            raise DataError("metadata rows need 'shortcut_id' and a 'domains' list", Location(str(path), i))
        out[row["shortcut_id"]] = row["domains"][0] if row["domains"] else "none"
    return out


@torch.no_grad()
def _bottleneck_codes(model, pooled: np.ndarray, states: list[np.ndarray], batch: int = 64) -> np.ndarray:
    parts = [
        model.memory(pooled[i : i + batch], states[i : i + batch]).z.numpy()
        for i in range(0, len(pooled), batch)
    ]
    return (
        np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, model.decoder.cfg.d_bottleneck))
    )


def run_interpret(
    run_dir: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    predictions: str | Path | None = None,
    rows: str | Path | None = None,
    metadata: str | Path | None = None,
    top: int = 20,
    seed: int = 0,
    use_umap: bool = True,
    progress: bool | None = None,
    encoder: Encoder | None = None,
    command: str = "",
) -> dict:
    """Run the four parts and write DIR/{interpret.json, report.md, run.json, *.png}; returns the result."""
    started = time.time()
    run_dir, data, out = Path(run_dir), Path(data), Path(out)
    if predictions is not None and rows is None:
        raise DataError("--predictions needs --rows (the rows.jsonl sashimi evaluate wrote for them)")
    if progress is None:
        progress = sys.stderr.isatty()
    torch.manual_seed(seed)  # nothing here draws at random (eval mode); fixed anyway
    # One intra-op thread, as in the generator: the matrices of one dev row are small, and on a shared
    # machine a second thread waiting for a busy core makes every op wait for it (SASHIMI_THREADS overrides).
    torch.set_num_threads(int(os.environ.get("SASHIMI_THREADS", "1")))
    model = load_run(run_dir)
    decoder = model.decoder
    cfg = decoder.cfg
    if cfg.retrieval_k > 0 and model.retrieval is None:
        raise DataError("this run uses retrieval but has no retrieval.safetensors", Location(str(run_dir)))
    catalog = model_catalog(model, run_dir)

    corpus = load_corpus(data)
    parsed, unparseable = parse_rows(corpus)
    if not parsed:
        raise DataError("no parseable rows in the dev file", Location(str(data)))
    examples, _ = build_examples(parsed, catalog, model.table, max_len=cfg.max_len)
    gold_list = prepare_gold(
        [GoldRow(r.shortcut_id, r.prompt, r.canonical_program()) for r, _ in parsed], catalog, file=str(data)
    )
    gold = {g.row.id: g for g in gold_list}
    prompts = [e.prompt for e in examples]
    encoder = encoder or Encoder(progress=progress)
    pooled = encoder.embed(prompts)
    states = encoder.token_states(prompts)

    # 1. weights
    actions = top_actions(model.vocab, model.table, top)
    weights = weight_patterns(decoder, actions)

    # 2. attribution
    pieces = word_pieces(prompts)
    attr = attribute(
        decoder,
        model.retrieval,
        examples,
        pooled,
        states,
        pieces,
        {a.token_id: a.action for a in actions},
        progress=progress,
    )

    # 3. bottleneck maps
    z = _bottleneck_codes(model, pooled, states)
    meta_domains = _metadata_domains(Path(metadata)) if metadata is not None else None
    ids = [e.shortcut_id for e in examples]
    if meta_domains is not None:
        domains = [meta_domains.get(i, "no metadata") for i in ids]
    else:
        domains = [domain_of(gold[i].view, catalog) for i in ids]
    labellings: dict[str, list[str]] = {"domain": domains}
    row_list = None
    if rows is not None:
        row_list = read_jsonl(rows)
        by_id = {r.get("id"): r for r in row_list}
        labellings["action F1"] = [
            "no row"
            if i not in by_id
            else ("F1 >= 0.5" if (by_id[i].get("action_f1") or 0) >= 0.5 else "F1 < 0.5")
            for i in ids
        ]
        labellings["compiled"] = [
            "no row" if i not in by_id else ("compiled" if by_id[i].get("compile_strict") else "not compiled")
            for i in ids
        ]
    proj = project(z, seed=seed, use_umap=use_umap)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(
        out / "z_pca.png", map_png(proj["pca"], labellings, f"bottleneck z, PCA ({len(z)} dev prompts)")
    )
    if not isinstance(proj["umap"], str):
        atomic_write_bytes(
            out / "z_umap.png",
            map_png(proj["umap"], labellings, f"bottleneck z, UMAP ({len(z)} dev prompts)"),
        )
    bottleneck = {
        "n": int(z.shape[0]),
        "dim": int(z.shape[1]),
        "pca_explained": proj["pca_explained"],
        "umap": proj["umap"] if isinstance(proj["umap"], str) else "z_umap.png",
        "domain_rule": DOMAIN_RULE_META if meta_domains is not None else DOMAIN_RULE_EXP11,
        "labellings": {
            name: {"counts": dict(Counter(labels).most_common()), "silhouette": silhouette(z, labels)}
            for name, labels in labellings.items()
        },
    }

    # 4. failure localisation
    failures = None
    if predictions is not None:
        preds = {p.id: p for p in read_predictions(predictions)}
        failures = localise(row_list, preds, gold, Scorer(catalog))

    result = {
        "command": command or f"sashimi interpret {run_dir} --data {data} --out {out}",
        "run": {
            "run_dir": str(run_dir),
            "data": str(data),
            "weight_regime": cfg.weight_regime,
            "d_model": cfg.d_model,
            "d_bottleneck": cfg.d_bottleneck,
            "retrieval_k": cfg.retrieval_k,
            "dev_rows": len(examples),
            "dev_unparseable": len(unparseable),
            "top": top,
            "seed": seed,
        },
        "weights": weights,
        "attribution": attr,
        "bottleneck": bottleneck,
        "failures": failures,
    }
    result = _clean(result)
    atomic_write_bytes(
        out / "sign_agreement.png", heatmap_png(result["weights"], f"top-{top} actions of {run_dir.name}")
    )
    write_json(out / "interpret.json", result)
    atomic_write_text(out / "report.md", render(result))
    config = {
        "run_dir": str(run_dir),
        "data": str(data),
        "predictions": None if predictions is None else str(predictions),
        "rows": None if rows is None else str(rows),
        "metadata": None if metadata is None else str(metadata),
        "top": top,
        "seed": seed,
        "umap": use_umap,
    }
    write_json(out / "run.json", run_metadata(config, started=started))
    result["_occurrences"] = attr["_occurrences"]
    return result
