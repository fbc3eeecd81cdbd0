"""Select the neighbour chooser's settings on a run's OWN dev carve (never on the real dev split).

    python benchmarks/chooser_study.py RUN_DIR --out runs/chooser_study [--grid k=10,20,50 mix=0,0.5,1 ...]

For each setting of the grid (a product of the given values; the rest stays at the ChooserConfig
default) it fits the action model on the run's training rows, generates every row of the run's dev carve
with the run's decoder + this chooser, and scores action-F1 / skeleton exact against the gold programs
(the harness's fidelity functions). The decoder alone ("decoder") and nearest-neighbour copying
("knn-1") are scored on the same rows. Writes study.json (+ the resolved grid, commit, wall time) and
prints the table; pass the winner to `sashimi fit-chooser RUN --set key=value`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--grid", nargs="*", default=["k=10,20,50", "mix=0,0.25,0.5,1", "include_decoder=true,false"]
    )
    args = ap.parse_args(argv)

    from tqdm import tqdm

    from sashimi.dsl.pipeline import run_pipeline
    from sashimi.eval.bootstrap import mean_and_ci, resample_indices
    from sashimi.eval.fidelity import CanonicalCatalog, fidelity_scores, program_view
    from sashimi.io import run_metadata, write_json
    from sashimi.model.checkpoint import load_run
    from sashimi.model.chooser import ActionModel, Chooser, ChooserConfig
    from sashimi.model.generator import Generator
    from sashimi.train.chooser import program_texts, whole_program_index
    from sashimi.train.config import resolve
    from sashimi.train.trainer import prepare

    started = time.time()
    run = Path(args.run)
    loaded = load_run(run)
    config = resolve(loaded.config["train"])
    config["data"]["negatives_per_program"] = 0
    files = [f["path"] for f in loaded.meta["data"]["data_files"]]
    prep = prepare(config, files, [], log=lambda *a: None)
    # the candidates: whole programs of the training rows only (the carve is what the settings are
    # scored on, so it must not retrieve itself; the run's own index may hold it)
    loaded.retrieval = whole_program_index(prep.train, loaded.table, int(loaded.decoder.cfg.max_len))
    loaded.chooser = None
    gen = Generator(loaded, model_dir=run)
    canon = CanonicalCatalog(gen.catalog)
    dev = prep.dev.examples
    gold = [program_view(_typed_ir(e, gen.catalog), canon) for e in dev]

    grid = {}
    for item in args.grid:
        key, _, values = item.partition("=")
        grid[key] = [yaml.safe_load(v) for v in values.split(",")]

    def score(dsls: list[str]) -> dict:
        f1, skel = [], []
        for dsl, g in zip(dsls, gold, strict=True):
            res = run_pipeline(dsl, gen.catalog, file="<c>", do_lint=False)
            s = fidelity_scores(program_view(res.ir, canon) if res.ir is not None else None, g)
            f1.append(s["action_f1"])
            skel.append(s["skeleton_exact"])
        m, lo, hi = mean_and_ci(np.array(f1), resample_indices(len(f1)))
        return {"action_f1": m, "action_f1_ci": [lo, hi], "skeleton_exact": float(np.mean(skel))}

    def run_all() -> tuple[list[str], list[str]]:
        outs = [gen.generate(e.prompt) for e in dev]
        return [g.dsl for g in outs], [g.source for g in outs]

    rows = []
    dsls, _ = run_all()
    rows.append({"setting": "decoder", **score(dsls)})
    # nearest-neighbour copying, values filled by the same filler: the chooser with k = 1, no decoder
    prompts, texts = [e.prompt for e in prep.train.examples], program_texts(prep.train)

    def fit(cfg: ChooserConfig) -> ActionModel:
        return ActionModel.fit(prep.train.pooled, prompts, texts, cfg)

    base = fit(ChooserConfig())
    fitted = {base.config.c: base}
    loaded.chooser = Chooser(
        replace(base, config=replace(base.config, k=1, include_decoder=False)), loaded.table.tokens
    )
    dsls, _ = run_all()
    rows.append({"setting": "knn-1", **score(dsls)})
    keys = list(grid)
    for values in tqdm(list(itertools.product(*[grid[k] for k in keys])), desc="chooser settings"):
        setting = dict(zip(keys, values, strict=True))
        cfg = replace(ChooserConfig(), **setting)
        if cfg.c not in fitted or any(k in setting for k in ("buckets", "min_programs", "minilm_weight")):
            model = fit(cfg)
            fitted.setdefault(cfg.c, model)
        else:
            model = replace(fitted[cfg.c], config=cfg)
        loaded.chooser = Chooser(model, loaded.table.tokens)
        dsls, sources = run_all()
        rows.append(
            {
                "setting": setting,
                **score(dsls),
                "decoder_chosen": sum(s == "decoder" for s in sources) / len(sources),
            }
        )
    out = Path(args.out)
    best = max(rows[2:], key=lambda r: (r["action_f1"], r["skeleton_exact"]))
    write_json(out / "study.json", {"rows": rows, "best": best, "dev_rows": len(dev), "grid": grid})
    write_json(
        out / "run.json",
        run_metadata({"run": str(run), "grid": grid}, started=started, metrics={"best": best}),
    )
    for r in rows:
        print(
            f"{json.dumps(r['setting']):60s} action-F1 {r['action_f1']:.3f} "
            f"[{r['action_f1_ci'][0]:.3f}, {r['action_f1_ci'][1]:.3f}] skeleton {r['skeleton_exact']:.3f}"
            + (f" decoder chosen {r['decoder_chosen']:.2f}" if "decoder_chosen" in r else "")
        )
    print("best on the run's dev carve:", json.dumps(best["setting"]))
    return 0


def _typed_ir(example, catalog):
    from sashimi.dsl.parser import parse
    from sashimi.ir.lowering import lower_to_text

    return parse(lower_to_text(example.typed))


if __name__ == "__main__":
    raise SystemExit(main())
