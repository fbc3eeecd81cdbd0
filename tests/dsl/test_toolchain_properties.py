"""Property test of the whole toolchain: for random and mutated DSL text, lint → parse → validate →
compile → serialise either succeeds or fails with the toolchain's own error type carrying a location;
no other exception ever escapes. Mutations start from programs that compile against the core catalog,
so they reach the validator and compiler, not just the parser.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.compiler import compile_program
from sashimi.dsl.linter import lint
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.errors import SashimiError
from tests.dsl.strategies import programs
from tests.dsl.test_parse_properties import _mutate, _mutation

CATALOG = Catalog.core()
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Hand-written programs valid against the core catalog, covering every statement kind.
SEEDS = [
    'SHORTCUT "Seed one"\n'
    'ACTION comment WFCommentActionText="Ask, then decide"\n'
    'ACTION ask WFAskActionPrompt="How many minutes?"\n'
    "SET $Minutes = @prev\n"
    "IF $Minutes is_greater_than 10\n"
    "ACTION showresult Text=`Long: {$Minutes}`\n"
    "ELSE\n"
    'ACTION gettext WFTextActionText="short"\n'
    "ENDIF\n"
    'MENU "Pick one"\n'
    'CASE "Copy"\n'
    "ACTION setclipboard WFInput=@prev\n"
    'CASE "Open"\n'
    'ACTION url WFURLActionURL="https://example.com/a?b=1"\n'
    "ACTION openurl\n"
    "ENDMENU\n",
    'SHORTCUT "Seed two"\n'
    'ACTION list WFItems=["a", "b", "c"]\n'
    "FOREACH @prev\n"
    "REPEAT 2\n"
    "ACTION gettext WFTextActionText=`{$Repeat_Item} {@date}`\n"
    "ENDREPEAT\n"
    "ENDFOREACH\n"
    'ACTION dictionary WFItems={"k": "v", "n": 3}\n'
    'ACTION getvalueforkey WFDictionaryKey="k"\n',
]

LOCATED = re.compile(r"^[^\n]*?:\d+(:\d+)?: |^[^\n:]+: ")  # file:line[:col]: … (or file: … for whole-file)


def _assert_one_located_line(message: str) -> None:
    assert "\n" not in message
    assert LOCATED.match(message), message


def _run(text: str) -> None:
    result = run_pipeline(text, CATALOG, file="fuzz.dsl")  # must never raise
    if result.error is not None:
        _assert_one_located_line(result.error)
    if result.compiled_permissive:
        assert result.shortcut_bytes and result.shortcut_bytes.startswith(b"bplist00")


def test_seeds_compile_strict():
    for text in SEEDS:
        result = run_pipeline(text, CATALOG, file="seed.dsl")
        assert result.compiled_strict, result.error


@SETTINGS
@given(st.sampled_from(SEEDS), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_programs_through_the_whole_toolchain(seed, ops):
    _run(_mutate(seed, ops))


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_through_the_whole_toolchain(text):
    _run(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_compile_or_fail_cleanly(ir):
    """Arbitrary IR (random action names, params, nesting): compile raises only SashimiError."""
    try:
        compile_program(ir, CATALOG, file="gen.dsl")
    except SashimiError as err:
        _assert_one_located_line(str(err))


@SETTINGS
@given(st.sampled_from(SEEDS), st.lists(_mutation, min_size=1, max_size=4))
def test_linter_never_raises_and_is_idempotent(seed, ops):
    once = lint(_mutate(seed, ops), CATALOG).text
    assert lint(once, CATALOG).text == once
    try:
        parse(once, file="fuzz.dsl")
    except SashimiError as err:
        _assert_one_located_line(str(err))
