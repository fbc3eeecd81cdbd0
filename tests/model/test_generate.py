"""`Generator`, `sashimi generate` (single and batch) and `sashimi export` on a small untrained run folder.

The mask makes every program valid whatever the weights, so an untrained decoder is enough to test the
machinery: programs compile strict, beam search works, a packed export gives byte-identical programs,
the written file decompiles to the same program, bad requests and refusals exit as documented.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sashimi.model.filler", reason="the value filler (branch filler) is not merged")

from sashimi.cli import main  # noqa: E402
from sashimi.dsl.decompiler import decompile  # noqa: E402
from sashimi.dsl.parser import parse  # noqa: E402
from sashimi.dsl.printer import print_program  # noqa: E402
from sashimi.model.generator import STAGES, Generator  # noqa: E402

from .gen_helpers import make_run, synthetic_rows  # noqa: E402

OOD = "what is the capital of France?"  # the shipped gate scores this ~0.002 (threshold ~0.32)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run") / "tiny")


@pytest.fixture(scope="module")
def generator(run_dir):
    return Generator.load(run_dir)


@pytest.fixture(scope="module")
def prompts():
    _, test_rows = synthetic_rows()
    return [r.prompt for r in test_rows][:12]


def test_every_accepted_prompt_gives_a_strict_program(generator, prompts):
    accepted = 0
    for prompt in prompts:
        for beam in (1, 3):
            gen = generator.generate(prompt, beam=beam)
            if not gen.accepted:
                assert gen.rejected_by == "gate" and "refused" in gen.reason
                continue
            accepted += 1
            assert gen.validity["compiled_strict"], (prompt, gen.dsl, gen.validity)
            assert gen.shortcut and gen.shortcut.startswith(b"bplist00")
            assert gen.dsl.startswith("SHORTCUT ")
            assert set(gen.stages) == set(STAGES)
            assert gen.ms >= sum(gen.stages.values()) - 1.0
    assert accepted >= len(prompts)  # most synthetic prompts pass the gate; at least half the runs


def test_refusal_and_bad_requests(generator):
    gen = generator.generate(OOD)
    assert not gen.accepted and gen.rejected_by == "gate" and gen.gate_score < 0.32 and gen.dsl == ""
    bad = generator.generate("   ")
    assert not bad.accepted and bad.rejected_by == "request" and "empty" in bad.reason


def _same_program(dsl: str, back) -> str | None:
    """None when the decompiled IR equals the program's, else the toolchain normalisations that explain it.

    Compile -> decompile is lossless up to the named normalisations of shortcutdsl.md §4.2 (the corpus
    round-trip test lists them), the decompiler's hidden parameters (`CustomOutputName` is folded
    into the output's handle name) and DSL `#` comments (source comments, not compiled; a Comment
    *action* is). Anything else is a failure (returns "unexplained")."""
    import dataclasses

    from sashimi.dsl.ast import ActionStatement, Comment
    from sashimi.dsl.decompiler import HIDDEN_PARAMS
    from tests.dsl.test_roundtrip_corpus import _transform, explain

    ir = parse(dsl)
    if back == ir:
        return None

    def hidden(node):
        if isinstance(node, ActionStatement):
            return dataclasses.replace(
                node, params=tuple(kv for kv in node.params if kv[0] not in HIDDEN_PARAMS)
            )
        if dataclasses.is_dataclass(node):  # drop `#` comments from every statement list
            changes = {
                f.name: tuple(x for x in getattr(node, f.name) if not isinstance(x, Comment))
                for f in dataclasses.fields(node)
                if f.compare and isinstance(getattr(node, f.name), tuple)
            }
            return dataclasses.replace(node, **changes)
        return node

    a, b = _transform(ir, hidden), _transform(back, hidden)
    return (
        "hidden_params/comments" if a == b else ("hidden_params/comments+" + (explain(a, b) or "unexplained"))
    )


def test_cli_writes_a_file_that_decompiles_to_the_same_program(run_dir, tmp_path, capsys, generator, prompts):
    out = tmp_path / "x.shortcut"
    code = main(["generate", "--model", str(run_dir), "set a timer for 10 minutes", "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "validity: valid (strict)" in text and f"wrote {out}" in text
    program = text.split("\nvalidity:")[0].strip()
    assert program == generator.generate("set a timer for 10 minutes").dsl.strip()
    for prompt in ["set a timer for 10 minutes", *prompts[:8]]:
        gen = generator.generate(prompt)
        if not gen.accepted:
            continue
        name = gen.name
        back = decompile(gen.shortcut, generator.catalog, file="x.shortcut", name=name).ir
        reason = _same_program(gen.dsl, back)
        assert reason is None or "unexplained" not in reason, (prompt, gen.dsl, print_program(back))


def test_cli_dsl_and_json_forms(run_dir, capsys):
    assert main(["generate", "--model", str(run_dir), "log 200 mg of caffeine to Health", "--dsl"]) == 0
    dsl = capsys.readouterr().out
    assert dsl.startswith("SHORTCUT ") and "validity" not in dsl
    assert (
        main(
            ["generate", "--model", str(run_dir), "log 200 mg of caffeine to Health", "--json", "--beam", "2"]
        )
        == 0
    )
    obj = json.loads(capsys.readouterr().out)
    assert obj["accepted"] and obj["validity"]["compiled_strict"] and obj["path"] is None


@pytest.mark.parametrize(
    ("request_text", "code", "needle"),
    [
        (OOD, 3, "refused"),
        ("", 2, "empty"),
        ("🎉🎉🎉", 2, "no words"),
        ("x" * 100_000, 2, "too long"),
        ("set a timer\x00\x07", 2, "control"),
    ],
)
def test_cli_refusals_are_one_line(run_dir, capsys, request_text, code, needle):
    assert main(["generate", "--model", str(run_dir), request_text]) == code
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_cli_batch_writes_predictions(run_dir, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    train_rows, _ = synthetic_rows()
    lines = [json.dumps(r.to_json()) for r in train_rows[:3]]
    lines += [json.dumps({"id": "ood", "prompt": OOD}), json.dumps({"id": "empty", "prompt": ""})]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "preds.jsonl"
    assert main(["generate", "--model", str(run_dir), "--input", str(src), "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [r.shortcut_id for r in train_rows[:3]] + ["ood", "empty"]
    for r in rows:
        assert {"id", "prompt", "dsl", "accepted", "ms"} <= set(r) and r["ms"] >= 0
    assert rows[3]["accepted"] is False and rows[3]["dsl"] == "" and rows[4]["accepted"] is False
    assert all(r["validity"]["compiled_strict"] for r in rows if r["accepted"])


def test_cli_batch_bad_line_is_located(run_dir, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "set a timer"}\n{"nope": 1}\n')
    assert (
        main(["generate", "--model", str(run_dir), "--input", str(src), "--out", str(tmp_path / "p.jsonl")])
        == 2
    )
    assert f"{src}:2" in capsys.readouterr().err


def test_packed_export_gives_byte_identical_programs(run_dir, tmp_path, generator, prompts):
    from sashimi.model.export import export_run

    info = export_run(run_dir, tmp_path / "packed")
    assert info["shippable"] and info["value_source"] == "synthetic" and info["ternary_layers"]
    assert info["encoder_precision"] == "float32"  # what a run folder runs with: packed = unpacked
    packed = Generator.load(tmp_path / "packed")
    assert packed.encoder.precision == generator.encoder.precision == "float32"
    for prompt in prompts[:6] + ["set a timer for 10 minutes", "text my mom that I am on my way"]:
        for beam in (1, 2):
            a, b = generator.generate(prompt, beam=beam), packed.generate(prompt, beam=beam)
            assert (a.accepted, a.dsl, a.shortcut) == (b.accepted, b.dsl, b.shortcut), prompt


def test_export_refuses_corpus_rows_without_a_synthetic_rebuild(tmp_path):
    from sashimi.errors import DataError
    from sashimi.model.export import export_run

    run = make_run(tmp_path / "real-filler", corpus_file="train.jsonl")
    with pytest.raises(DataError, match="may not ship"):
        export_run(run, tmp_path / "out")
    info = export_run(run, tmp_path / "local", allow_corpus_rows=True)
    assert info["shippable"] is False
    synth = tmp_path / "synth.jsonl"
    train_rows, _ = synthetic_rows(40, seed=1)
    synth.write_text("".join(json.dumps(r.to_json()) + "\n" for r in train_rows))
    info = export_run(run, tmp_path / "ship", synthetic=synth)
    assert info["shippable"] and info["value_source"] == "synthetic"
    assert "refitted" in json.loads((tmp_path / "ship" / "meta.json").read_text())["export"]["filler"]
    gen = Generator.load(tmp_path / "ship").generate("set a timer for 10 minutes")
    assert gen.validity["compiled_strict"]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [(["--max-action-count", "-1"], "--max-action-count"), (["--close-bias", "50"], "--close-bias")],
)
def test_cli_bad_decoding_settings_are_one_line_errors(run_dir, flags, needle, capsys):
    assert main(["generate", "--model", str(run_dir), "set a timer", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_decoding_settings_reach_the_search(run_dir, capsys):
    """--max-action-count 0 / --close-bias 0 switch the cap and the bias off; the defaults set both."""
    from sashimi.model.constraints import DEFAULT_MAX_ACTION_COUNT, RepetitionCap

    default = Generator.load(run_dir)
    assert isinstance(default.search_constraint, RepetitionCap)
    assert default.search_constraint.max_count == DEFAULT_MAX_ACTION_COUNT and default.bias is not None
    plain = Generator.load(run_dir, max_action_count=None, close_bias=0.0)
    assert plain.search_constraint is plain.constraint and plain.bias is None
    assert main(["generate", "--model", str(run_dir), "set a timer", "--dsl", "--max-action-count", "0",
                 "--close-bias", "0"]) in (0, 3)


def test_export_records_the_encoder_precision_the_generator_then_runs(run_dir, tmp_path, monkeypatch, capsys):
    """`sashimi export --encoder-precision int8` writes it into packed.json; `Generator.load` runs that
    MiniLM graph, $SASHIMI_ENCODER_PRECISION overrides it, and a packed.json with an unknown one is a
    located error."""
    from sashimi.errors import DataError
    from sashimi.model.export import export_run

    assert main(["export", str(run_dir), "--out", str(tmp_path / "q"), "--encoder-precision", "int8"]) == 0
    assert "encoder: int8" in capsys.readouterr().out
    info = json.loads((tmp_path / "q" / "packed.json").read_text())
    assert info["encoder_precision"] == "int8"
    gen = Generator.load(tmp_path / "q")
    assert gen.encoder.precision == "int8" and gen.generate("set a timer for 10 minutes").validity["compiled_strict"]
    monkeypatch.setenv("SASHIMI_ENCODER_PRECISION", "float32")
    assert Generator.load(tmp_path / "q").encoder.precision == "float32"
    monkeypatch.delenv("SASHIMI_ENCODER_PRECISION")
    monkeypatch.setenv("SASHIMI_ENCODER_BACKEND", "torch")  # the float32 reference pass: no 8-bit graph
    assert (Generator.load(tmp_path / "q").encoder.backend, Generator.load(tmp_path / "q").encoder.precision) == ("torch", "float32")
    monkeypatch.setenv("SASHIMI_ENCODER_PRECISION", "int8")  # asked for both: a clear error
    with pytest.raises(DataError, match="needs the onnxruntime backend"):
        Generator.load(tmp_path / "q")
    monkeypatch.delenv("SASHIMI_ENCODER_BACKEND")
    monkeypatch.delenv("SASHIMI_ENCODER_PRECISION")
    with pytest.raises(DataError, match="encoder precision must be one of"):
        export_run(run_dir, tmp_path / "bad", encoder_precision="int4")
    info["encoder_precision"] = "int4"
    (tmp_path / "q" / "packed.json").write_text(json.dumps(info))
    with pytest.raises(DataError, match="unknown encoder_precision 'int4'") as err:
        Generator.load(tmp_path / "q")
    assert "packed.json" in str(err.value)
