"""Intent templates: one user intent, its phrasings, its slots and the program it stands for.

A template is data plus a small `build` function that turns sampled slot values into IR statements
(sashimi.dsl.ast dataclasses). Programs are built as IR, never as text, so every generated program is
well-formed by construction; the canonical printer turns them into DSL text.

Phrasings are whole sentences in different registers (imperative, question, casual, terse, polite,
descriptive third person as in the real corpus), written by hand per template. `clauses` are short
imperative fragments ("log 200 mg of caffeine") used when a template is one part of a composition
("…, then …", "if …, …, otherwise …", menus, loops).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sashimi.data.synth.values import Sampler, Val
from sashimi.dsl.ast import (
    ActionStatement,
    BoolValue,
    DictLiteral,
    HandleRef,
    InterpolatedString,
    ListLiteral,
    NumberValue,
    QuantityLiteral,
    Statement,
    StringValue,
    Value,
    VarRef,
)

STYLES = {
    "I": "imperative",
    "Q": "question",
    "C": "casual",
    "T": "terse",
    "P": "polite",
    "D": "descriptive",
}

PREV = HandleRef("prev")
INPUT = HandleRef("input")
DATE = HandleRef("date")
ITEM = VarRef("Repeat_Item")  # the real corpus spells the loop item this way (shortcutdsl.md §1.5)

Build = Callable[[Mapping[str, Val]], tuple[Statement, ...]]


@dataclass(frozen=True)
class Phrasing:
    style: str  # one of STYLES.values()
    text: str  # str.format template over the slot names


@dataclass(frozen=True)
class IntentTemplate:
    id: str  # "<domain>.<name>", stable: metadata, manifests and held-out pairs refer to it
    domain: str
    title: str  # shortcut name / menu label
    phrasings: tuple[Phrasing, ...]
    clauses: tuple[str, ...]
    build: Build
    slots: tuple[tuple[str, Sampler], ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)  # e.g. "repeatable"

    def sample(self, rng: random.Random) -> dict[str, Val]:
        return {name: sampler(rng) for name, sampler in self.slots}

    def program(self, values: Mapping[str, Val]) -> tuple[Statement, ...]:
        return tuple(self.build(values))


def slot_names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def intent(
    id: str,
    title: str,
    *,
    phrasings: list[str],
    clauses: list[str],
    build: Build,
    slots: Mapping[str, Sampler] | None = None,
    tags: tuple[str, ...] = (),
) -> IntentTemplate:
    """Declare a template; each phrasing is written "X: text" with X a key of `STYLES`."""
    parsed = []
    for p in phrasings:
        code, _, text = p.partition(": ")
        if code not in STYLES or not text:
            raise ValueError(f"{id}: phrasing needs a style prefix: {p!r}")
        parsed.append(Phrasing(STYLES[code], text))
    names = set((slots or {}).keys())
    for text in [p.text for p in parsed] + list(clauses):
        missing = slot_names(text) - names
        if missing:  # a typo here would otherwise surface as a KeyError mid-generation
            raise ValueError(f"{id}: unknown slot(s) {sorted(missing)} in {text!r}")
    return IntentTemplate(
        id=id,
        domain=id.split(".", 1)[0],
        title=title,
        phrasings=tuple(parsed),
        clauses=tuple(clauses),
        build=build,
        slots=tuple((slots or {}).items()),
        tags=frozenset(tags),
    )


# ----------------------------------------------------------------------------- IR builders


def val(x: Any) -> Value:
    """Python value / sampled `Val` → IR value (bool is tested before int, see ir.py)."""
    if isinstance(x, Val):
        return val(x.value)
    if isinstance(x, bool):
        return BoolValue(x)
    if isinstance(x, int | float):
        return NumberValue(x)
    if isinstance(x, str):
        return StringValue(x)
    if isinstance(x, tuple) and all(isinstance(i, str) for i in x):
        return ListLiteral(tuple(StringValue(i) for i in x))
    if isinstance(x, dict):
        return DictLiteral(tuple((k, val(v)) for k, v in x.items()))
    return x  # already an IR value


def act(name: str, **params: Any) -> ActionStatement:
    """`ACTION name k=v …` with params in keyword order."""
    return ActionStatement(name, tuple((k, val(v)) for k, v in params.items()))


def interp(*parts: Any) -> InterpolatedString:
    """A backtick string; plain `str` parts are text runs, refs are placeholders."""
    out = []
    for p in parts:
        if isinstance(p, Val):
            p = p.value
        out.append(StringValue(p) if isinstance(p, str) else p)
    return InterpolatedString(tuple(out))


def qty(n: int | float, unit: str) -> QuantityLiteral:
    return QuantityLiteral(n, unit)


def show(*parts: Any) -> ActionStatement:
    """Show a result to the user (`showresult`), the most common way the corpus ends a program."""
    return act("showresult", Text=interp(*parts))
