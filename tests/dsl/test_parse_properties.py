"""Property tests of the parser and printer (hypothesis; small budgets so the whole file runs in seconds).

1. Robustness: for any text — random, or a valid program with characters inserted, deleted, replaced
   or cut off — `parse` returns an IR or raises `DSLSyntaxError` with a line and column; nothing else.
2. Round trip: for generated IRs covering every statement and value kind, `parse(print_program(ir))
   == ir`, and printing is a fixed point.
3. `reference_compat` only removes extensions: whatever it accepts, the default mode accepts with the
   same IR.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sashimi.dsl.parser import parse
from sashimi.dsl.printer import print_program
from sashimi.errors import DSLSyntaxError
from tests.dsl.strategies import programs

# Text is cheap to generate, IR programs are not: budgets sized for a 2-core CI machine.
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GENERATED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Hand-written seed programs exercising every construct; mutations of these reach deep parser states.
SEEDS = [
    'SHORTCUT "Seed"\n'
    'ACTION comment WFCommentActionText="Say \\"hi\\"\\n\\tthere"\n'
    "ACTION ask WFAskActionPrompt=`Name {@prev} and {$x}` Flag=true N=-1.5e3\n"
    'SET $Count = QTY(@ask, "min")\n'
    'IF $Count is_greater_than 2\nACTION a X={"k": [1, "two", {"z": false}]}\nELSE\n'
    'FOREACH @input\nREPEAT 3\nACTION b H=HEADERS {"Accept": `{@item}`}\nENDREPEAT\nENDFOREACH\nENDIF\n'
    'MENU `Pick {@date}`\nCASE "One"\n# note\nACTION c\nCASE "Two"\nENDMENU\n',
    'SHORTCUT "x"\r\n  ACTION a X=`multi\n  line` Y="raw\nbreak"\r\n\r\nENDSHORTCUT\r\n',
]

_mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "truncate"]),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(list('"`{}[]()$@#=,:\n\r\t \\ xIF0.-') + ["ENDIF", "ELSE", "CASE", "\x00", "é", "true"]),
)


def _mutate(text: str, ops: list[tuple[str, int, str]]) -> str:
    for op, where, piece in ops:
        i = where % (len(text) + 1)
        if op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + len(piece) :]
        elif op == "replace":
            text = text[:i] + piece + text[i + 1 :]
        else:
            text = text[:i]
    return text


def _check_parse(text: str, *, reference_compat: bool = False) -> None:
    try:
        ir = parse(text, file="fuzz.dsl", reference_compat=reference_compat)
    except DSLSyntaxError as err:
        assert err.location.file == "fuzz.dsl"
        assert err.location.line is not None and err.location.col is not None
        assert err.location.line >= 1 and err.location.col >= 1
        assert "\n" not in str(err) and "\r" not in str(err)
        assert str(err).startswith(f"fuzz.dsl:{err.location.line}:{err.location.col}: ")
    else:
        # Whatever parses must print and parse back to the same IR.
        assert parse(print_program(ir)) == ir


@FAST
@given(st.text(max_size=200))
@example("")
@example("\x00\xff\ufeff")
@example("SHORTCUT")
@example('SHORTCUT "a')
@example("\ud800")
def test_random_text_never_crashes(text):
    _check_parse(text)
    _check_parse(text, reference_compat=True)


@FAST
@given(st.sampled_from(SEEDS), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_programs_never_crash(seed, ops):
    text = _mutate(seed, ops)
    _check_parse(text)
    _check_parse(text, reference_compat=True)


@GENERATED
@given(programs(), st.lists(_mutation, min_size=1, max_size=3))
def test_mutated_generated_programs_never_crash(ir, ops):
    _check_parse(_mutate(print_program(ir), ops))


@GENERATED
@given(programs())
def test_generated_programs_round_trip(ir):
    text = print_program(ir)
    back = parse(text, file="gen.dsl")
    assert back == ir
    assert back.has_endshortcut == ir.has_endshortcut
    assert print_program(back) == text


@FAST
@given(st.sampled_from(SEEDS), st.lists(_mutation, max_size=3))
def test_reference_compat_is_a_subset(seed, ops):
    text = _mutate(seed, ops)
    try:
        strict = parse(text, reference_compat=True)
    except DSLSyntaxError:
        return
    assert parse(text) == strict


def test_mutated_corpus_targets_never_crash(corpus_targets):
    """Seeded (not hypothesis: the corpus comes from a fixture) mutations of real targets."""
    rng = random.Random(0)
    pieces = list('"`{}[]()$@#=,:\n\r\t \\') + ["ENDIF", "ELSE", "CASE", "x", "é"]
    for _ in range(300):
        _sid, text = rng.choice(corpus_targets)
        ops = [
            (
                rng.choice(["insert", "delete", "replace", "truncate"]),
                rng.randrange(len(text) + 1),
                rng.choice(pieces),
            )
            for _ in range(rng.randint(1, 3))
        ]
        _check_parse(_mutate(text, ops))
        _check_parse(_mutate(text, ops), reference_compat=True)
