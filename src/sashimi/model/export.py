"""`sashimi export`: a training run folder -> a packed model folder that can ship (issue 13).

Packed folder:

    packed.json           format, decoder config, tensor layout, data provenance, size report
    model.safetensors     ternary layers: `<layer>.packed` (uint8, 2 bits per weight, 4 per byte) and
                          `<layer>.gamma` (float32 scale); every other float tensor float32 (float16 with
                          --float-dtype float16: it changed 1 of 50 shipped programs); no pickle
    token_table.json      the output vocabulary
    vocab/                Tier 1 / Tier 2 vocabularies, redacted: tokens the mask can never allow
                          (uncatalogued actions, custom output names seen in training) keep their id
                          but lose their text (`redact_vocab`; the masks are checked to be unchanged)
    filler/               the value filler (its value vocabulary from synthetic data + catalog only)
    retrieval.safetensors only for retrieval models: an index over OUR synthetic corpus
    meta.json             the run's meta (metrics, parameter counts) plus the export's provenance

packed.json's `encoder_precision` ("float32", or "int8" with --encoder-precision int8) is the MiniLM
graph the `Generator` runs this model with; it is part of the model as measured (an 8-bit MiniLM moves
the features, so programs may change: RESULTS §8). A run folder is always run with float32.

Data rule (issue 13, architecture.md §5): weights trained on the real corpus may ship (aggregate
statistics), but nothing holding its rows may: no retrieval index over its prompts or programs, no value
vocabulary learned from its literals. `export_run` enforces it:

- a run that read corpus files (meta.json `data.data_files`; a synthetic-only run generates its data
  itself) has its value filler refitted on the synthetic corpus (`synthetic=`), whatever label the
  filler carries, and a retrieval model gets a new index over that synthetic corpus; without
  `synthetic=` the export is refused;
- `allow_corpus_rows=True` lifts both for a LOCAL model (the user's own index/filler over the real
  corpus); it is marked `"shippable": false`, and `tests/model/test_shipped_model.py` checks the shipped
  default is shippable.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from sashimi.errors import DataError, Location
from sashimi.io import read_json, write_json
from sashimi.model.catalogs import model_catalog

PACKED_FILE = "packed.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "sashimi-packed"
FORMAT_VERSION = 1
FLOAT_DTYPES = {"float16": torch.float16, "float32": torch.float32}


def trained_on_synthetic_only(meta: dict) -> bool:
    """True when the run read no corpus file: `sashimi train` generated its synthetic data itself."""
    data = meta.get("data") if isinstance(meta, dict) else None
    return isinstance(data, dict) and "synth" in data and not data.get("data_files")


def _load_without_filler(run: Path):
    """`load_run` of the run folder minus its filler/ (a temporary folder of links to the other files)."""
    import tempfile

    from sashimi.model.checkpoint import load_run

    with tempfile.TemporaryDirectory(prefix="sashimi-export-") as tmp:
        for item in run.iterdir():
            if item.name != "filler":
                (Path(tmp) / item.name).symlink_to(item.resolve(), target_is_directory=item.is_dir())
        loaded = load_run(tmp)
    return loaded


def is_packed(directory: str | os.PathLike) -> bool:
    return (Path(directory) / PACKED_FILE).is_file()


def _packed_decoder(cfg):
    """A SashimiDecoder with every ternary-mode BitLinear replaced by a PackedBitLinear (shapes only)."""
    from sashimi.model.decoder import SashimiDecoder
    from sashimi.model.ternary import pack_model

    return pack_model(SashimiDecoder(cfg))


def packed_state(decoder, float_dtype: str = "float16") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors to save, layout) of a trained decoder: ternary layers at 2 bits + scale, the rest `float_dtype`."""
    from sashimi.model.ternary import PackedBitLinear, pack_model

    packed = pack_model(decoder)
    ternary_layers = [n for n, m in packed.named_modules() if isinstance(m, PackedBitLinear)]
    keep = {f"{n}.{b}" for n in ternary_layers for b in ("packed", "gamma")}  # codes + scale stay exact
    state: dict[str, torch.Tensor] = {}
    for name, tensor in packed.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        if name not in keep and t.is_floating_point():
            t = t.to(FLOAT_DTYPES[float_dtype])
        state[name] = t
    ternary_bytes = sum(state[k].numel() * state[k].element_size() for k in keep)
    other_bytes = sum(t.numel() * t.element_size() for k, t in state.items() if k not in keep)
    layout = {
        "ternary_layers": ternary_layers,
        "float_dtype": float_dtype,
        "ternary_bytes": ternary_bytes,
        "other_bytes": other_bytes,
        "ternary_weights": sum(
            m.in_features * m.out_features for m in packed.modules() if isinstance(m, PackedBitLinear)
        ),
    }
    return state, layout


def _synthetic_examples(path: Path, catalog) -> list[tuple[str, Any]]:
    """(prompt, TypedProgram) pairs of a synthetic corpus file (rows that do not parse are skipped)."""
    from sashimi.dsl.corpus import load_corpus
    from sashimi.dsl.parser import parse
    from sashimi.errors import SashimiError
    from sashimi.ir.typed import to_typed

    out = []
    for row in load_corpus(path):
        if not row.shortcut_id.startswith("synth"):
            raise DataError(
                f"row {row.shortcut_id!r} is not from our synthetic corpus: only synthetic rows may ship",
                Location(str(path)),
            )
        try:
            out.append((row.prompt, to_typed(parse(row.program), catalog)))
        except SashimiError:
            continue
    if not out:
        raise DataError("no usable synthetic rows", Location(str(path)))
    return out


def _synthetic_index(examples, table, cfg, *, cache_dir=None):
    from sashimi.model.encoder import Encoder
    from sashimi.model.retrieval import build_index

    emb = Encoder(cache_dir).embed([p for p, _ in examples])
    ids = [table.encode([t.text for t in typed.tokens]) for _, typed in examples]
    return build_index(emb, ids, list(range(len(examples))), cfg.retrieval_len)


def export_run(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    synthetic: str | os.PathLike | None = None,
    allow_corpus_rows: bool = False,
    float_dtype: str = "float32",
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    encoder_precision: str = "float32",
) -> dict:
    """Write the packed folder; return its packed.json content. See the module docstring for the rules."""
    from safetensors.torch import save_file

    from sashimi.ir.vocab import save_vocab
    from sashimi.model.checkpoint import load_run
    from sashimi.model.minilm import PRECISIONS

    started = time.time()
    run, out = Path(run_dir), Path(out_dir)
    if float_dtype not in FLOAT_DTYPES:
        raise DataError(f"float dtype must be one of {sorted(FLOAT_DTYPES)}, got {float_dtype!r}")
    if encoder_precision not in PRECISIONS:
        raise DataError(f"encoder precision must be one of {list(PRECISIONS)}, got {encoder_precision!r}")
    if out.resolve() == run.resolve():
        raise DataError("export into the run folder itself is not allowed", Location(str(out)))
    # A run that read corpus files gets a new filler below; its own is not even loaded (it is not needed,
    # and a filler with corpus literals must not be able to block or leak into the export).
    meta_path = run / "meta.json"
    run_meta = read_json(meta_path) if meta_path.is_file() else {}
    keep_run_filler = trained_on_synthetic_only(run_meta) or allow_corpus_rows
    loaded = load_run(run) if keep_run_filler else _load_without_filler(run)
    cfg = loaded.decoder.cfg
    if cfg.output_target != "typed_ir":  # the packed format has no tokenizer: a text run is an ablation
        raise DataError(
            f"export packs typed_ir models only (this run's target is {cfg.output_target})",
            Location(str(run)),
        )
    catalog = model_catalog(loaded, run)
    synth_path = Path(synthetic) if synthetic is not None else None
    provenance: dict[str, Any] = {"run": str(run), "synthetic": str(synth_path) if synth_path else None}

    filler = loaded.filler
    if filler is None and keep_run_filler:
        raise DataError(
            "the run has no value filler (filler/): nothing to generate values with", Location(str(run))
        )
    source = getattr(filler, "value_source", None)
    synthetic_run = trained_on_synthetic_only(loaded.meta)
    examples = None
    if not synthetic_run and not allow_corpus_rows:
        # The filler's own `value_source` is a label given at fit time; whether the run read corpus rows
        # is what the run folder records (meta.data.data_files), so that decides.
        if synth_path is None:
            raise DataError(
                "the run trained on corpus files, so its value filler holds their literal values, which may "
                "not ship: pass --synthetic FILE.jsonl to refit it on our synthetic corpus (or --local)",
                Location(str(run)),
            )
        from sashimi.model.filler import ValueFiller

        examples = _synthetic_examples(synth_path, catalog)
        filler = ValueFiller.fit(examples, seed=seed, value_source="synthetic")
        source = "synthetic"
        provenance["filler"] = f"refitted on {len(examples)} synthetic rows of {synth_path}"
    else:
        provenance["filler"] = "the run's own" + (" (synthetic-only run)" if synthetic_run else " (LOCAL)")

    index = None
    if cfg.retrieval_k > 0:
        if synthetic_run or allow_corpus_rows:
            index = loaded.retrieval
            provenance["retrieval"] = "the run's own index" + (
                " (synthetic-only run)" if synthetic_run else " (LOCAL)"
            )
        elif synth_path is None:
            raise DataError(
                "a retrieval model needs an index, and the run's holds its training rows: pass "
                "--synthetic FILE.jsonl to build one over our synthetic corpus (or --local)",
                Location(str(run)),
            )
        else:
            examples = examples or _synthetic_examples(synth_path, catalog)
            index = _synthetic_index(examples, loaded.table, cfg, cache_dir=cache_dir)
            provenance["retrieval"] = f"built over {len(examples)} synthetic rows of {synth_path}"
    shippable = synthetic_run or not allow_corpus_rows
    if loaded.chooser is not None:  # its candidates are the run's index rows; a packed model decodes
        provenance["chooser"] = "not exported: the packed model decodes its own programs"

    vocab, table, n_redacted = redact_vocab(loaded.vocab, loaded.table)
    provenance["redacted_tokens"] = n_redacted
    provenance["mask_states_checked"] = check_same_masks(
        loaded.vocab, loaded.table, vocab, table, catalog, int(cfg.max_len)
    )
    state, layout = packed_state(loaded.decoder, float_dtype)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    save_file(state, str(out / WEIGHTS_FILE))
    write_json(out / "token_table.json", table.to_json())
    save_vocab(vocab, out / "vocab")
    filler.save(out / "filler")
    provenance["filler_json_bytes"] = _compact_filler(out / "filler")
    if index is not None:
        index.save(out)
    meta = {k: v for k, v in loaded.meta.items() if k not in ("retrieval",)}
    meta["export"] = provenance
    write_json(out / "meta.json", meta)
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "decoder": cfg.to_json(),
        "train": loaded.config.get("train", {}),
        **layout,
        "shippable": shippable,
        "value_source": source,
        "trained_on_synthetic_only": synthetic_run,
        "retrieval_source": None if index is None else provenance["retrieval"],
        "encoder_precision": encoder_precision,
        "seconds": round(time.time() - started, 2),
    }
    write_json(out / PACKED_FILE, info)
    info["folder_bytes"] = folder_bytes(out)
    write_json(out / PACKED_FILE, info)
    return info


REDACTED = "<redacted:{}>"


def redact_vocab(vocab, table):
    """Replace the text of every token the decoding mask can never allow by `<redacted:ID>`.

    The output vocabulary of a model trained on the real corpus lists what its programs contained:
    uncatalogued vendor actions and the names of custom-named outputs (`@BillAmount`) among them. The
    mask never lets the decoder emit those (only catalog actions, their keys and enums, and handles of
    catalog actions are allowed), so the shipped folder does not need their names: the ids (and the
    weights' rows) stay, the texts go. Kept: keywords, markers, booleans, conditions, slot kinds,
    variables, the fixed handles, and for each catalogued action its `A:` token, `K:`/`E:` tokens and
    output handle. Tier 2 vocabularies of uncatalogued actions are dropped and training counts zeroed.
    Returns (vocab, table, number redacted). `export_run` then checks that both give the same masks.
    """
    from dataclasses import replace as dc_replace

    from sashimi.ir.typed import ACTION_PREFIX, ENUM_PREFIX, KEY_PREFIX
    from sashimi.ir.vocab import Vocab, sanitised_handle
    from sashimi.model.token_table import TokenTable

    keep_actions = {name: spec for name, spec in vocab.tier2.items() if spec.in_catalog}
    keep: set[str] = set()
    for category, tokens in vocab.categories.items():
        if category not in ("handles", "actions"):
            keep.update(tokens)
    from sashimi.dsl import plist_refs
    from sashimi.ir.typed import RESERVED_HANDLE_TOKENS

    keep.update(RESERVED_HANDLE_TOKENS)  # @prev @input @date @item @index
    keep.update(
        "@" + h
        for h in (*plist_refs.MAGIC_HANDLES, "conditional", "choosefrommenu", "repeat_each", "repeat_count")
    )
    for name, spec in keep_actions.items():
        keep.add(ACTION_PREFIX + name)
        keep.add(sanitised_handle(name))
        keep.update(spec.tokens())
        keep.update(KEY_PREFIX + k for k in spec.keys)
        keep.update(ENUM_PREFIX + v for vals in spec.enums.values() for v in vals)
    rename: dict[str, str] = {}
    texts = list(table.tokens)
    for i, text in enumerate(texts):
        if i >= 4 and text not in keep:
            rename[text] = REDACTED.format(i)
            texts[i] = rename[text]
    new_table = TokenTable(tuple(texts))
    new_vocab = Vocab(
        tier1=tuple(rename.get(t, t) for t in vocab.tier1),
        categories={k: tuple(rename.get(t, t) for t in v) for k, v in vocab.categories.items()},
        tier2={name: dc_replace(spec, training_count=0) for name, spec in keep_actions.items()},
        meta={k: v for k, v in vocab.meta.items() if k in ("format_version",)} | {"redacted": len(rename)},
    )
    return new_vocab, new_table, len(rename)


def check_same_masks(
    vocab_a, table_a, vocab_b, table_b, catalog, max_len: int, *, walks: int = 300, seed: int = 0
) -> int:
    """Random walks through both masks (uniform over allowed tokens): every mask must be identical.

    Returns the number of states compared; raises DataError at the first difference."""
    import numpy as np

    from sashimi.model.constraints import ProgramConstraint

    a = ProgramConstraint(vocab_a, table_a, max_len=max_len, catalog=catalog)
    b = ProgramConstraint(vocab_b, table_b, max_len=max_len, catalog=catalog)
    rng = np.random.default_rng(seed)
    compared = 0
    for _ in range(walks):
        sa, sb = a.initial(), b.initial()
        while not a.is_final(sa):
            ma, mb = a.allowed(sa), b.allowed(sb)
            compared += 1
            if not np.array_equal(ma, mb):
                raise DataError("redacting the vocabulary changed the decoding mask (not exported)")
            t = int(rng.choice(np.flatnonzero(ma)))
            sa, sb = a.advance(sa, t), b.advance(sb, t)
    return compared


FILLER_DIGITS = 7  # significant digits kept of the filler scorer's weights (float32 precision)


def _compact_filler(directory: Path) -> int:
    """Round the value filler's scorer weights to float32 precision in its JSON (the size budget: the
    scorer has ~140 k feature weights written with 17 digits). The rounded filler is the shipped one; it
    is reloaded here to check it still reads."""
    import json

    from sashimi.io import atomic_write_text
    from sashimi.model.filler import ValueFiller

    path = directory / "filler.json"
    obj = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(obj.get("weights"), dict):
        obj["weights"] = {k: float(f"{v:.{FILLER_DIGITS}g}") for k, v in obj["weights"].items()}
        atomic_write_text(path, json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        ValueFiller.load(directory)
    return path.stat().st_size


def folder_bytes(directory: str | os.PathLike) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def load_packed(directory: str | os.PathLike):
    """A packed folder -> `checkpoint.LoadedModel` with the packed decoder (computes in float32)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from sashimi.ir.vocab import load_vocab
    from sashimi.model.checkpoint import LoadedModel
    from sashimi.model.decoder import DecoderConfig
    from sashimi.model.filler import ValueFiller
    from sashimi.model.retrieval import RETRIEVAL_FILE, RetrievalIndex
    from sashimi.model.token_table import TokenTable

    root = Path(directory)
    info = read_json(root / PACKED_FILE)
    loc = Location(str(root / PACKED_FILE))
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise DataError(f"not a {FORMAT} folder", loc)
    if info.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"packed format version {info.get('format_version')} (this sashimi reads {FORMAT_VERSION})", loc
        )
    from sashimi.model.minilm import PRECISIONS

    precision = info.get("encoder_precision", "float32")  # folders packed before the field: float32
    if precision not in PRECISIONS:
        raise DataError(f"unknown encoder_precision {precision!r} (this sashimi runs {list(PRECISIONS)})", loc)
    cfg = DecoderConfig.from_json(info["decoder"])
    decoder = _packed_decoder(cfg)
    try:
        state = load_file(str(root / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(
            f"unreadable packed weights: {err}".splitlines()[0], Location(str(root / WEIGHTS_FILE))
        ) from None
    own = decoder.state_dict()
    if set(state) != set(own):
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        raise DataError(
            f"packed weights do not fit the config (missing {missing[:3]}, unexpected {extra[:3]})", loc
        )
    decoder.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    decoder.eval()
    table = TokenTable.from_json(
        read_json(root / "token_table.json"), location=Location(str(root / "token_table.json"))
    )
    vocab = load_vocab(root / "vocab")
    filler = ValueFiller.load(root / "filler")
    retrieval = RetrievalIndex.load(root) if (root / RETRIEVAL_FILE).is_file() else None
    meta_path = root / "meta.json"
    meta = read_json(meta_path) if meta_path.is_file() else {}
    from sashimi.model.chooser import load_chooser  # a local copy may carry one (sashimi fit-chooser --out)

    chooser = load_chooser(root, table.tokens)
    return LoadedModel(
        decoder,
        table,
        vocab,
        filler,
        retrieval,
        meta,
        {"decoder": info["decoder"], "train": info.get("train", {})},
        chooser=chooser,
        encoder_precision=precision,
    )
