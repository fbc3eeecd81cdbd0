"""The synthetic corpus generator: (prompt, program) pairs from intent templates.

Shapes (drawn with fixed probabilities, see `SHAPES`):
- `single`       one intent, one of its hand-written phrasings (+ optional politeness layer);
- `sequence`     2–4 intents joined by "…, then …" frames;
- `sequence_if`  1–2 intents, then a conditional on one or two more ("…, then if …, …, otherwise …");
- `conditional`  IF with a then-intent and (usually) an else-intent;
- `menu`         2–4 intents offered as MENU cases ("let me pick between …");
- `foreach`      a collection and 1–2 per-item actions ("for each photo I pick, …");
- `repeat`       a repeatable intent N times.

Program conventions (documented in docs/DATA.md): header `SHORTCUT "<title>"`, then the corpus
convention of a first `comment` action holding the request verbatim, then the statements; built-ins
by their short names, app intents by full identifier; loop items as `$Repeat_Item`.
Everything random flows through one `random.Random(seed)`, so a seed fixes the corpus byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sashimi.data.synth import phrasing as P
from sashimi.data.synth.control import (
    COLLECTIONS,
    CONDITIONS,
    CONTROL_DOMAINS,
    ITEMS,
    CollectionTemplate,
    ItemTemplate,
)
from sashimi.data.synth.domains import ALL_TEMPLATES
from sashimi.data.synth.splits import (
    intent_pairs,
    is_heldout,
    split_sizes,
)
from sashimi.data.synth.templates import IntentTemplate, act
from sashimi.data.synth.values import MENU_PROMPT, Val
from sashimi.dsl.ast import (
    ForeachBlock,
    IfBlock,
    MenuBlock,
    MenuCase,
    NumberValue,
    RepeatBlock,
    SetVariable,
    ShortcutIR,
    Statement,
    walk_statements,
)
from sashimi.dsl.corpus import CorpusRow
from sashimi.dsl.printer import print_program

GENERATOR_VERSION = 1
DEFAULT_MENU_PROMPT = "Choose an option"

SHAPES: tuple[tuple[str, float], ...] = (
    ("single", 0.30),
    ("sequence", 0.22),
    ("sequence_if", 0.08),
    ("conditional", 0.14),
    ("menu", 0.10),
    ("foreach", 0.11),
    ("repeat", 0.05),
)

TEMPLATE_BY_ID = {t.id: t for t in ALL_TEMPLATES}
REPEATABLE = tuple(t for t in ALL_TEMPLATES if "repeatable" in t.tags)


@dataclass(frozen=True)
class SynthExample:
    """One generated pair plus what it is made of (the metadata JSONL holds the same fields)."""

    row: CorpusRow
    domains: tuple[str, ...]  # domains of the intents, first-seen order
    intents: tuple[str, ...]  # template ids in prompt order (cond./each./item. ids included)
    style: str  # register of the prompt, e.g. "question", "imperative+polite"
    control_flow: tuple[str, ...]  # block kinds in the program: if, menu, foreach, repeat
    shape: str  # generator shape (see module docstring)
    uses_variables: bool  # the program has a SET statement

    def metadata(self, split: str) -> dict:
        return {
            "shortcut_id": self.row.shortcut_id,
            "split": split,
            "domains": list(self.domains),
            "intents": list(self.intents),
            "style": self.style,
            "control_flow": list(self.control_flow),
            "shape": self.shape,
            "uses_variables": self.uses_variables,
        }


@dataclass(frozen=True)
class _Draft:
    prompt: str
    name: str
    statements: tuple[Statement, ...]
    intents: tuple[str, ...]
    style: str
    shape: str


# ----------------------------------------------------------------------------- rendering helpers


def _texts(values: dict[str, Val]) -> dict[str, str]:
    return {k: v.text for k, v in values.items()}


def _clause(t: IntentTemplate, values: dict[str, Val], rng: random.Random) -> str:
    return rng.choice(t.clauses).format(**_texts(values))


def _distinct(rng: random.Random, pool, k: int, exclude: set[str] = frozenset()) -> list:
    """k templates with distinct ids (and distinct titles, so menu labels never collide)."""
    out, titles = [], set()
    while len(out) < k:
        t = pool[rng.randrange(len(pool))]
        if t.id in exclude or t.title in titles or any(t.id == o.id for o in out):
            continue
        out.append(t)
        titles.add(t.title)
    return out


def _style(rng: random.Random) -> str:
    return rng.choice(P.COMPOSITION_STYLES)


def _frame(table: dict[str, list[str]], style: str, rng: random.Random) -> str:
    return rng.choice(table[style])


def _name(titles: list[str], sep: str = " & ") -> str:
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + sep + titles[-1]


# ----------------------------------------------------------------------------- shapes


def _single(rng: random.Random) -> _Draft:
    t = ALL_TEMPLATES[rng.randrange(len(ALL_TEMPLATES))]
    values = t.sample(rng)
    ph = rng.choice(t.phrasings)
    text, style = P.polish(ph.text.format(**_texts(values)), ph.style, rng)
    return _Draft(text, t.title, t.program(values), (t.id,), style, "single")


def _sequence_text(clauses: list[str], style: str, rng: random.Random) -> str:
    frame = _frame(P.SEQUENCE, style, rng)
    rest = P.join(clauses[1:], style, P.SEQ_JOIN)
    text = frame.format(first=clauses[0], rest=rest)
    return P.cap(text) if style != "casual" else text


def _sequence(rng: random.Random) -> _Draft:
    k = rng.choice((2, 2, 2, 3, 3, 4))
    ts = _distinct(rng, ALL_TEMPLATES, k)
    vals = [t.sample(rng) for t in ts]
    style = _style(rng)
    text = _sequence_text([_clause(t, v, rng) for t, v in zip(ts, vals, strict=True)], style, rng)
    stmts = tuple(s for t, v in zip(ts, vals, strict=True) for s in t.program(v))
    return _Draft(text, _name([t.title for t in ts]), stmts, tuple(t.id for t in ts), style, "sequence")


def _conditional_parts(rng: random.Random, style: str, with_else: bool, exclude: set[str]):
    c = CONDITIONS[rng.randrange(len(CONDITIONS))]
    cvals = c.sample(rng)
    ts = _distinct(rng, ALL_TEMPLATES, 2 if with_else else 1, exclude)
    vals = [t.sample(rng) for t in ts]
    setup, target, condition, compare = c.build(cvals)
    then_body = ts[0].program(vals[0])
    else_body = ts[1].program(vals[1]) if with_else else None
    block = IfBlock(target, condition, compare, then_body, else_body)
    fmt = {
        "cond": rng.choice(c.phrases).format(**_texts(cvals)),
        "a": _clause(ts[0], vals[0], rng),
        "b": _clause(ts[1], vals[1], rng) if with_else else "",
    }
    frame = _frame(P.CONDITIONAL if with_else else P.CONDITIONAL_NO_ELSE, style, rng)
    text = frame.format(**fmt)
    return c, ts, setup + (block,), text


def _conditional(rng: random.Random) -> _Draft:
    style = _style(rng)
    with_else = rng.random() < 0.7
    c, ts, stmts, text = _conditional_parts(rng, style, with_else, set())
    text = P.cap(text) if style != "casual" else text
    name = f"{ts[0].title} ({c.title})"
    return _Draft(text, name, stmts, (c.id, *(t.id for t in ts)), style, "conditional")


def _sequence_if(rng: random.Random) -> _Draft:
    style = rng.choice(("imperative", "question", "casual", "polite"))
    k = rng.choice((1, 1, 2))
    ts = _distinct(rng, ALL_TEMPLATES, k)
    vals = [t.sample(rng) for t in ts]
    with_else = rng.random() < 0.6
    c, cts, cstmts, ctext = _conditional_parts(rng, "imperative", with_else, {t.id for t in ts})
    clauses = [_clause(t, v, rng) for t, v in zip(ts, vals, strict=True)] + [P.lower_first(ctext)]
    text = _sequence_text(clauses, style, rng)
    stmts = tuple(s for t, v in zip(ts, vals, strict=True) for s in t.program(v)) + cstmts
    name = _name([t.title for t in ts] + [c.title])
    intents = (*(t.id for t in ts), c.id, *(t.id for t in cts))
    return _Draft(text, name, stmts, intents, style, "sequence_if")


def _menu(rng: random.Random) -> _Draft:
    k = rng.choice((2, 2, 3, 3, 4))
    ts = _distinct(rng, ALL_TEMPLATES, k)
    vals = [t.sample(rng) for t in ts]
    style = _style(rng)
    frame = _frame(P.MENU, style, rng)
    mp = MENU_PROMPT(rng).value if "{mp}" in frame else DEFAULT_MENU_PROMPT
    options = P.join([_clause(t, v, rng) for t, v in zip(ts, vals, strict=True)], style, P.MENU_JOIN)
    text = frame.format(options=options, mp=mp)
    text = P.cap(text) if style != "casual" else text
    cases = tuple(MenuCase(t.title, t.program(v)) for t, v in zip(ts, vals, strict=True))
    name = _name([t.title for t in ts], " or ")
    return _Draft(text, name, (MenuBlock(mp, cases),), tuple(t.id for t in ts), style, "menu")


def _foreach(rng: random.Random) -> _Draft:
    coll: CollectionTemplate = COLLECTIONS[rng.randrange(len(COLLECTIONS))]
    fitting = [i for i in ITEMS if coll.kind in i.kinds]
    k = 2 if len(fitting) > 1 and rng.random() < 0.3 else 1
    items: list[ItemTemplate] = rng.sample(fitting, k)
    cvals = coll.sample(rng)
    ivals = [i.sample(rng) for i in items]
    setup, ref = coll.build(cvals)
    body = tuple(s for i, v in zip(items, ivals, strict=True) for s in i.build(v))
    style = _style(rng)
    it = " and ".join(rng.choice(i.phrases).format(**_texts(v)) for i, v in zip(items, ivals, strict=True))
    frame = _frame(P.FOREACH, style, rng)
    cphrase = rng.choice(coll.phrases).format(**_texts(cvals))
    text = frame.format(coll=cphrase, Coll=P.cap(cphrase), it=it)
    text = P.cap(text) if style != "casual" else text
    name = f"{items[0].title}: {coll.title}"
    return _Draft(
        text, name, setup + (ForeachBlock(ref, body),), (coll.id, *(i.id for i in items)), style, "foreach"
    )


def _repeat(rng: random.Random) -> _Draft:
    t = REPEATABLE[rng.randrange(len(REPEATABLE))]
    values = t.sample(rng)
    n = rng.randrange(2, 11)
    style = _style(rng)
    a = _clause(t, values, rng)
    text = _frame(P.REPEAT, style, rng).format(a=a, A=P.cap(a), n=n)
    text = P.cap(text) if style != "casual" else text
    block = RepeatBlock(NumberValue(n), t.program(values))
    return _Draft(text, f"{t.title} x{n}", (block,), (t.id,), style, "repeat")


BUILDERS: dict[str, Callable[[random.Random], _Draft]] = {
    "single": _single,
    "sequence": _sequence,
    "sequence_if": _sequence_if,
    "conditional": _conditional,
    "menu": _menu,
    "foreach": _foreach,
    "repeat": _repeat,
}


# ----------------------------------------------------------------------------- assembly


def control_flow_kinds(statements: tuple[Statement, ...]) -> tuple[str, ...]:
    kinds = {IfBlock: "if", MenuBlock: "menu", ForeachBlock: "foreach", RepeatBlock: "repeat"}
    found = {kinds[type(s)] for s in walk_statements(statements) if type(s) in kinds}
    return tuple(k for k in ("if", "menu", "foreach", "repeat") if k in found)


def build_program(
    name: str, prompt: str, statements: tuple[Statement, ...], *, comment: bool = True
) -> ShortcutIR:
    """The program for a request; `comment` adds the corpus convention of a leading comment action."""
    head = (act("comment", WFCommentActionText=prompt),) if comment else ()
    return ShortcutIR(name, head + tuple(statements))


def _domain_of(intent_id: str) -> str:
    t = TEMPLATE_BY_ID.get(intent_id)
    return t.domain if t is not None else CONTROL_DOMAINS.get(intent_id, "control")


def draw(rng: random.Random, *, comment: bool = True) -> tuple[_Draft, ShortcutIR]:
    shape = rng.choices([s for s, _ in SHAPES], weights=[w for _, w in SHAPES])[0]
    draft = BUILDERS[shape](rng)
    return draft, build_program(draft.name, draft.prompt, draft.statements, comment=comment)


def generate_corpus(
    n: int = 5000,
    seed: int = 0,
    *,
    comment: bool = True,
    progress: Callable[[int], None] | None = None,
    holdout_seed: int | None = None,
    exclude_prompts: Collection[str] = (),
) -> dict[str, list[SynthExample]]:
    """Generate `n` examples split into train/dev/test/test_compositional (deterministic per seed).

    test_compositional holds programs whose intent set contains a held-out intent pair (never seen
    together in any other split); every other example goes to train/dev/test at random (80/10/10).
    Prompts are unique across the whole corpus. `progress(k)` is called after each accepted example.

    More training data for an existing corpus: another `seed` with that corpus's seed as `holdout_seed`
    (the same intent pairs held out, so its train split never holds a pair of the first corpus's
    test_compositional) and the first corpus's prompts as `exclude_prompts` (never drawn again).
    """
    if n < 10:
        raise ValueError("n must be at least 10 (every split needs examples)")
    rng = random.Random(seed)
    sizes = split_sizes(n)
    n_in = n - sizes["test_compositional"]
    in_dist: list[SynthExample] = []
    comp: list[SynthExample] = []
    seen: set[str] = set(exclude_prompts)
    held_seed = seed if holdout_seed is None else holdout_seed
    attempts = 0
    while len(in_dist) < n_in or len(comp) < sizes["test_compositional"]:
        attempts += 1
        if attempts > 50 * n:  # the template space is far larger than any sane n
            raise RuntimeError(f"could not draw {n} distinct examples (got {len(in_dist) + len(comp)})")
        draft, ir = draw(rng, comment=comment)
        if draft.prompt in seen:
            continue
        held = any(is_heldout(p, held_seed) for p in intent_pairs(draft.intents))
        bucket, cap_ = (comp, sizes["test_compositional"]) if held else (in_dist, n_in)
        if len(bucket) >= cap_:
            continue
        seen.add(draft.prompt)
        row = CorpusRow(f"synth-{seed}-{len(in_dist) + len(comp):05d}", draft.prompt, print_program(ir))
        bucket.append(
            SynthExample(
                row=row,
                domains=tuple(dict.fromkeys(_domain_of(i) for i in draft.intents)),
                intents=draft.intents,
                style=draft.style,
                control_flow=control_flow_kinds(ir.statements),
                shape=draft.shape,
                uses_variables=any(isinstance(s, SetVariable) for s in walk_statements(ir.statements)),
            )
        )
        if progress is not None:
            progress(1)
    rng.shuffle(in_dist)
    splits = {
        "train": in_dist[: sizes["train"]],
        "dev": in_dist[sizes["train"] : sizes["train"] + sizes["dev"]],
        "test": in_dist[sizes["train"] + sizes["dev"] :],
        "test_compositional": comp,
    }
    return splits
