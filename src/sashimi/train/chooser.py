"""Fit a run's neighbour chooser (`sashimi.model.chooser`) and give it a full-length retrieval index.

`sashimi train` calls `fit_run_chooser` at the end when the config says `chooser.fit: true`;
`sashimi fit-chooser RUN` does the same for a finished run without retraining the decoder: it reads the
run's training rows again (the same carve of the same files, or `--data`), encodes them with the run's
own token table, writes `retrieval.safetensors` with whole programs (the decoder still reads only its
first `retrieval_len` tokens) and fits `chooser/`. For a packed model (the shipped default included)
`sashimi fit-chooser --model DIR --data F.jsonl --out LOCAL` writes a copy with an index and a chooser
over every row of `--data`: how a user adds a local index to the product (architecture.md §5: an index
over the real corpus never ships, but anyone holding the corpus may build one).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sashimi.errors import DataError, Location
from sashimi.model.chooser import CHOOSER_DIR, ActionModel, ChooserConfig
from sashimi.model.retrieval import RetrievalIndex, build_index


def program_texts(data) -> list[list[str]]:
    """The typed-IR token texts of each example's program."""
    return [[t.text for t in e.typed.tokens] for e in data.examples]


def whole_program_index(data, table, max_len: int) -> RetrievalIndex:
    """The retrieval index of `data`'s programs, whole (up to `max_len`), in `table`'s ids."""
    ids = [table.encode(texts)[:max_len] for texts in program_texts(data)]
    return build_index(data.pooled, ids, [e.group for e in data.examples], max_len)


def fit_run_chooser(
    run: Path,
    data,
    table,
    max_len: int,
    chooser_config: ChooserConfig,
    *,
    log=print,
    quiet: bool = False,
) -> dict[str, Any]:
    """Index (whole programs, `table`'s ids) + action model from `data` (a `Dataset`: examples with
    prompt / typed / group, and their pooled vectors); returns what to record."""
    t0 = time.time()
    examples = data.examples
    texts = program_texts(data)
    whole_program_index(data, table, max_len).save(run)
    progress = None
    if not quiet:
        from tqdm import tqdm

        def progress(it):
            return tqdm(it, desc="chooser: one regression per action", unit="action", leave=False)

    model = ActionModel.fit(
        data.pooled, [e.prompt for e in examples], texts, chooser_config, progress=progress
    )
    model.save(run / CHOOSER_DIR)
    seconds = round(time.time() - t0, 2)
    log(
        f"neighbour chooser: {len(model.actions)} actions modelled, {len(examples)} programs indexed, {seconds}s"
    )
    return {
        "fitted": True,
        "config": chooser_config.__dict__,
        "actions": len(model.actions),
        "indexed_programs": len(examples),
        "params": int(model.weights.size + model.bias.size),
        "seconds": seconds,
    }


def fit_rows_chooser(
    out: Path, rows, table, catalog, max_len: int, chooser_config: ChooserConfig, *, log=print, quiet=False
) -> dict[str, Any]:
    """Index + chooser over every parseable row of `rows` (`CorpusRow`s), encoded with `table`."""
    from types import SimpleNamespace

    from sashimi.data.splits import group_rows
    from sashimi.ir.typed import to_typed
    from sashimi.model.encoder import Encoder
    from sashimi.train.data import parse_rows

    parsed, failed = parse_rows(rows)
    if not parsed:
        raise DataError("no parseable training rows for the chooser")
    group_of = {i: g for g, grp in enumerate(group_rows([r for r, _ in parsed])) for i in grp.rows}
    examples = [
        SimpleNamespace(prompt=row.prompt, typed=to_typed(ir, catalog), group=group_of[i])
        for i, (row, ir) in enumerate(parsed)
    ]
    pooled = Encoder(progress=not quiet).embed([e.prompt for e in examples])
    data = SimpleNamespace(examples=examples, pooled=pooled)
    info = fit_run_chooser(out, data, table, max_len, chooser_config, log=log, quiet=quiet)
    return {**info, "unparseable_rows": len(failed)}


def refit_chooser(
    run_dir: str | Path,
    data_paths: list[str],
    overrides: dict[str, Any] | None = None,
    *,
    hold_out_dev_carve: bool = False,
    out: str | Path | None = None,
    catalog_dir: str | Path | None = None,
    log=print,
    quiet: bool = False,
) -> dict[str, Any]:
    """`sashimi fit-chooser`: the chooser of an existing run, on every row of its training files (its
    dev carve included, as `sashimi train` does; `hold_out_dev_carve`: without the carve, for studies
    that score on it)."""
    from sashimi.io import read_json, write_json
    from sashimi.model.checkpoint import load_run
    from sashimi.model.export import is_packed
    from sashimi.train.config import resolve
    from sashimi.train.trainer import prepare

    run = Path(run_dir)
    if is_packed(run):
        return _refit_packed(run, data_paths, overrides, out=out, catalog_dir=catalog_dir, log=log, quiet=quiet)
    if catalog_dir is not None:
        raise DataError("--catalog-dir is for packed models (a run keeps its own catalog)", Location(str(run)))
    if out is not None:
        raise DataError(
            "--out is for packed models; a run folder gets its chooser in place", Location(str(out))
        )
    model = load_run(run)
    if model.text is not None:
        raise DataError("a dsl_text model has no typed programs to choose among", Location(str(run)))
    config = resolve(model.config.get("train") or {})
    if not data_paths:
        files = ((model.meta.get("data") or {}).get("data_files")) or []
        data_paths = [f["path"] for f in files]
        if not data_paths and config["data"]["source"] != "synth":
            raise DataError("the run records no training files: pass --data FILE.jsonl", Location(str(run)))
    _check_files(data_paths)
    config["data"]["negatives_per_program"] = 0  # the chooser needs programs, not negatives
    chooser_config = _settings(config.get("chooser", {}), overrides)
    prep = prepare(config, data_paths, [], log=log if not quiet else (lambda *a: None))
    data = prep.train if hold_out_dev_carve else all_training_rows(prep)
    info = fit_run_chooser(
        run, data, model.table, int(model.decoder.cfg.max_len), chooser_config, log=log, quiet=quiet
    )
    meta_path = run / "meta.json"
    meta = read_json(meta_path) if meta_path.is_file() else {}
    meta["chooser"] = {**info, "data_files": data_paths, "dev_carve_held_out": hold_out_dev_carve}
    write_json(meta_path, meta)
    return info


def _check_files(paths) -> None:
    for path in paths:
        if not Path(path).is_file():
            raise DataError("training file not found", Location(str(path)))


def _settings(base: dict, overrides: dict[str, Any] | None) -> ChooserConfig:
    settings = {**base, **(overrides or {})}
    settings.pop("fit", None)
    return ChooserConfig.from_json(settings)


def _refit_packed(model_dir: Path, data_paths, overrides, *, out, catalog_dir=None, log, quiet) -> dict[str, Any]:
    """A copy of a packed model (`out`) with an index and a chooser over every row of `data_paths`.

    With `catalog_dir` the rows are read with that (reference) catalog and the copy's vocabulary and
    token table are extended with what their programs use (`extend_vocabulary`): the chooser can then
    pick programs outside the model's own catalog, and they compile against the reference catalog,
    which the copy's meta.json names. The decoder is unchanged (it never emits the added tokens)."""
    import shutil

    from sashimi.dsl.corpus import load_corpus
    from sashimi.io import read_json, write_json
    from sashimi.model.catalogs import model_catalog
    from sashimi.model.export import load_packed

    if not data_paths:
        raise DataError(
            "a packed model records no training rows: pass --data FILE.jsonl", Location(str(model_dir))
        )
    if out is None:
        raise DataError(
            "pass --out DIR: a packed model is copied there with its index", Location(str(model_dir))
        )
    target = Path(out)
    if target.resolve() == model_dir.resolve():
        raise DataError("--out must differ from the model folder (it is copied)", Location(str(target)))
    if target.exists() and any(target.iterdir()):
        raise DataError("--out exists and is not empty", Location(str(target)))
    _check_files(data_paths)
    model = load_packed(model_dir)
    rows = [r for p in data_paths for r in load_corpus(p)]
    if catalog_dir is not None:
        from sashimi.dsl.catalog import Catalog

        catalog_dir = str(Path(catalog_dir).resolve())
        catalog = Catalog.load(Path(catalog_dir))
    else:
        catalog = model_catalog(model, model_dir)
    # built beside the target and renamed at the end: an interrupted run leaves no half-made model
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(model_dir, tmp)
    try:
        settings = _settings({}, overrides)
        max_len = int(model.decoder.cfg.max_len)
        table = model.table
        if catalog_dir is not None:
            table, added = extend_vocabulary(tmp, model.vocab, table, rows, catalog)
            if not quiet:
                log(f"vocabulary extended with {added} tokens of the rows' programs ({catalog_dir})")
        info = fit_rows_chooser(tmp, rows, table, catalog, max_len, settings, log=log, quiet=quiet)
        meta = read_json(tmp / "meta.json") if (tmp / "meta.json").is_file() else {}
        if catalog_dir is not None:
            meta.setdefault("data", {})["catalog_dir"] = catalog_dir
        meta["chooser"] = {**info, "data_files": [str(p) for p in data_paths], "copied_from": str(model_dir)}
        meta["local_only"] = "holds an index of the training rows above: never ship or publish this folder"
        write_json(tmp / "meta.json", meta)
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def extend_vocabulary(folder: Path, vocab, table, rows, catalog):
    """Write into `folder` the model's vocabulary merged with the one `rows`' programs need under
    `catalog`, and a token table that keeps every old id and appends the new tokens. Returns (new table,
    number of tokens added)."""
    from sashimi.io import write_json
    from sashimi.ir.vocab import build_vocab, merge_vocab, save_vocab
    from sashimi.model.token_table import TokenTable, build_token_table
    from sashimi.train.data import parse_rows

    parsed, _ = parse_rows(rows)
    extra = build_vocab([ir for _, ir in parsed], catalog, catalog_actions=catalog.actions)
    merged = merge_vocab(vocab, extra)
    known = set(table.tokens)
    added = tuple(t for t in build_token_table(merged).tokens if t not in known)
    new_table = TokenTable(table.tokens + added)
    save_vocab(merged, folder / "vocab")
    write_json(folder / "token_table.json", new_table.to_json())
    return new_table, len(added)


def all_training_rows(prep):
    """The training rows and the dev carve as one `Dataset`: the chooser's settings are fixed before it
    is fitted (selected on the carve by `benchmarks/chooser_study.py`), so, like a kNN baseline over the
    same files, it indexes every row; the carve only ever selected the decoder's checkpoint."""
    import dataclasses

    import numpy as np

    a, b = prep.train, prep.dev
    shift = 1 + max((e.group for e in a.examples), default=-1)
    moved = [dataclasses.replace(e, group=e.group + shift) for e in b.examples]
    return dataclasses.replace(
        a,
        examples=[*a.examples, *moved],
        pooled=np.concatenate([a.pooled, b.pooled]),
        token_states=[*a.token_states, *b.token_states],
        neighbours=None,
    )
