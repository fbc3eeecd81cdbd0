"""Constrained decoding: the mask accepts the corpora's typed-IR sequences, and every walk through it is a
program that lowers, prints, parses, validates strict and compiles (valid by construction)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sashimi.dsl import ast as dsl_ast
from sashimi.dsl.ast import CONDITIONS
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import load_corpus
from sashimi.dsl.parser import parse
from sashimi.dsl.pipeline import run_pipeline
from sashimi.dsl.printer import print_program
from sashimi.dsl.validator import validate
from sashimi.errors import DataError
from sashimi.ir.lowering import lower
from sashimi.ir.typed import SPECIAL_TOKENS, TIER_PARAM, TIER_VALUE, to_typed
from sashimi.ir.vocab import build_vocab
from sashimi.model.constraints import (
    CONDITION_RULES,
    ProgramConstraint,
    RepetitionCap,
    TokenTable,
    build_token_table,
    placeholder_slots,
)
from tests.ir.helpers import every_kind_program, small_catalog

# Validator warnings about scope: the machine refuses exactly these (module docstring of constraints.py).
SCOPE_WARNINGS = frozenset({"undefined_variable", "unresolved_handle", "prev_fallback", "handle_context"})


class Setup:
    def __init__(self, catalog: Catalog, programs: list, max_len: int = 2048):
        self.catalog = catalog
        self.programs = programs
        self.vocab = build_vocab(programs, catalog, catalog_actions=catalog.actions)
        self.table = build_token_table(self.vocab)
        self.pc = ProgramConstraint(self.vocab, self.table, max_len=max_len, catalog=catalog)

    def ids(self, ir) -> list[int]:
        return [self.table.id(t.text) for t in to_typed(ir, self.catalog).tokens]


@pytest.fixture(scope="module")
def synth() -> Setup:
    from sashimi.data.synth import generate_corpus

    splits = generate_corpus(n=300, seed=3)
    programs = [parse(ex.row.program) for rows in splits.values() for ex in rows]
    return Setup(Catalog.core(), programs)


@pytest.fixture(scope="module")
def real(shortcutforge_dir) -> Setup:
    rows = load_corpus(shortcutforge_dir / "train.jsonl")
    return Setup(Catalog.load(shortcutforge_dir), [parse(r.program) for r in rows])


@pytest.fixture(scope="module")
def small() -> Setup:
    return Setup(small_catalog(), [every_kind_program()], max_len=64)


def feed(pc: ProgramConstraint, table: TokenTable, texts: list[str]):
    state = pc.initial()
    for text in texts:
        state = pc.advance(state, table.id(text))
    return state


def allowed_texts(pc: ProgramConstraint, table: TokenTable, state) -> set[str]:
    return {table.tokens[i] for i in np.flatnonzero(pc.allowed(state))}


def rejection(pc: ProgramConstraint, ids: list[int]) -> str | None:
    state = pc.initial()
    for i, t in enumerate(ids):
        if not pc.allowed(state)[t]:
            return f"token {i} {pc.table.tokens[t]!r}"
        state = pc.advance(state, t)
    return None if pc.is_final(state) else "no END"


# ----------------------------------------------------------------------------- token table


def test_token_table_layout_and_json(small):
    table = small.table
    assert table.tokens[:4] == ("<PAD>", "<BOS>", "<EOS>", "<UNK>")
    assert build_token_table(small.vocab) == table  # deterministic
    for tok in small.vocab.tier1:
        assert tok in table or tok in SPECIAL_TOKENS  # the typed IR's <SEP_TIER> is never emitted
    for spec in small.vocab.tier2.values():
        assert all(tok in table for tok in spec.tokens())
    for slot in ("<str>", "<num>", "<text>", "<unit>", "<dict>", "<list>", "<headers>"):
        assert slot in table
    assert len(set(table.tokens)) == len(table)
    assert table.id("no such token") == 3 and "no such token" not in table
    assert TokenTable.from_json(table.to_json()) == table
    with pytest.raises(DataError):
        TokenTable.from_json({"tokens": ["<PAD>", "x"]})
    with pytest.raises(DataError):
        TokenTable.from_json([1, 2])


# ----------------------------------------------------------------------------- acceptance


def test_accepts_every_synthetic_program(synth):
    rejected = [(i, r) for i, ir in enumerate(synth.programs) if (r := rejection(synth.pc, synth.ids(ir)))]
    print(f"\nsynthetic acceptance: {len(synth.programs) - len(rejected)}/{len(synth.programs)}")
    assert not rejected, rejected[:5]


def test_accepts_real_corpus_except_scope_warnings(real):
    """Every real program is accepted unless the validator itself warns about its scoping (listed)."""
    accepted, exceptions, wrong = 0, {}, []
    for ir in real.programs:
        reason = rejection(real.pc, real.ids(ir))
        issues = validate(ir, real.catalog, "strict")
        scope = sorted({w.category for w in issues.warnings} & SCOPE_WARNINGS)
        assert not issues.errors
        if reason is None:
            accepted += 1
        elif scope:
            for cat in scope:
                exceptions[cat] = exceptions.get(cat, 0) + 1
        else:
            wrong.append(reason)
    n = len(real.programs)
    print(
        f"\nreal acceptance: {accepted}/{n} = {accepted / n:.4f}; rejected with scope warnings: {exceptions}"
    )
    assert not wrong, wrong[:5]
    assert accepted / n > 0.95


def test_replayed_typed_program_equals_to_typed(synth):
    for ir in synth.programs[:100]:
        typed = to_typed(ir, synth.catalog)
        ids = synth.ids(ir)
        assert synth.pc.to_typed(ids, typed.slots, typed.var_names) == typed
        assert lower(synth.pc.to_typed(ids, typed.slots, typed.var_names)) == ir


def test_replay_assigns_tiers_like_to_typed(small):
    typed = to_typed(every_kind_program(), small.catalog)
    texts = [t.text for t in typed.tokens]
    # every_kind_program is deliberately full of invalid corners; replay its tiers token by token
    pc, table = small.pc, small.table
    state = pc.initial()
    tiers = []
    for text in texts:
        tid = table.id(text)
        tiers.append(pc.tier_of(state, tid))
        if not pc.allowed(state)[tid]:
            break
        state = pc.advance(state, tid)
    assert tiers == [t.tier for t in typed.tokens][: len(tiers)]
    assert TIER_PARAM in tiers and TIER_VALUE in tiers


# ----------------------------------------------------------------------------- valid by construction


def walk(pc: ProgramConstraint, rng: random.Random) -> list[int]:
    state, ids = pc.initial(), []
    while not pc.is_final(state):
        mask = pc.allowed(state)
        choices = np.flatnonzero(mask)
        assert len(choices), f"empty mask after {[pc.table.tokens[i] for i in ids]}"
        # half the time prefer statement keywords, so walks also build deep block structure
        keywords = [c for c in choices if pc.table.tokens[c].isupper() or pc.table.tokens[c] == "#"]
        pick = rng.choice(keywords if keywords and rng.random() < 0.5 else list(choices))
        ids.append(int(pick))
        state = pc.advance(state, pick)
        assert len(ids) + pc.remaining(state) <= pc.max_len
    assert not pc.allowed(state).any()
    return ids


def check_program(setup: Setup, pc: ProgramConstraint, ids: list[int]) -> None:
    slots, names = placeholder_slots(pc, ids)
    typed = pc.to_typed(ids, slots, names)
    assert [t.text for t in typed.tokens] == [pc.table.tokens[i] for i in ids]
    text = print_program(lower(typed))
    result = run_pipeline(text, setup.catalog, do_lint=False)
    assert result.compiled_strict, (result.failed_stage, result.error, text)
    scope = [w for w in result.warnings if w.category in SCOPE_WARNINGS]
    assert not scope, (scope, text)


WALK_SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@WALK_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), max_len=st.sampled_from([3, 4, 7, 12, 40, 150]))
def test_any_walk_compiles_synthetic(synth, seed, max_len):
    pc = ProgramConstraint(synth.vocab, synth.table, max_len=max_len, catalog=synth.catalog)
    check_program(synth, pc, walk(pc, random.Random(seed)))


@WALK_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), max_len=st.sampled_from([3, 5, 9, 30, 120, 300]))
def test_any_walk_compiles_real_catalog(real, seed, max_len):
    pc = ProgramConstraint(real.vocab, real.table, max_len=max_len, catalog=real.catalog)
    check_program(real, pc, walk(pc, random.Random(seed)))


def test_walks_end_exactly_within_tight_budgets(small):
    for max_len in range(3, 20):
        pc = ProgramConstraint(small.vocab, small.table, max_len=max_len, catalog=small.catalog)
        rng = random.Random(max_len)
        for _ in range(30):
            ids = walk(pc, rng)
            assert len(ids) <= max_len
            check_program(small, pc, ids)


# ----------------------------------------------------------------------------- the rules, one by one


def test_program_frame(small):
    pc, table = small.pc, small.table
    assert allowed_texts(pc, table, pc.initial()) == {"SHORTCUT"}
    assert allowed_texts(pc, table, feed(pc, table, ["SHORTCUT"])) == {"<str>"}
    body = allowed_texts(pc, table, feed(pc, table, ["SHORTCUT", "<str>"]))
    assert body == {"ACTION", "SET", "IF", "MENU", "REPEAT", "FOREACH", "#", "END"}
    with pytest.raises(ValueError):
        pc.advance(pc.initial(), table.id("END"))


def test_blocks_are_balanced(small):
    pc, table = small.pc, small.table
    head = ["SHORTCUT", "<str>"]
    in_if = allowed_texts(pc, table, feed(pc, table, head + ["IF", "@input", "has_any_value"]))
    assert {"ELSE", "ENDIF"} <= in_if and "END" not in in_if and "ENDMENU" not in in_if
    in_else = allowed_texts(pc, table, feed(pc, table, head + ["IF", "@input", "has_any_value", "ELSE"]))
    assert "ENDIF" in in_else and "ELSE" not in in_else
    menu = feed(pc, table, head + ["MENU", "<str>"])
    assert allowed_texts(pc, table, menu) == {"CASE"}
    in_case = allowed_texts(pc, table, feed(pc, table, head + ["MENU", "<str>", "CASE", "<str>"]))
    assert {"CASE", "ENDMENU"} <= in_case and "ENDIF" not in in_case
    loop = allowed_texts(pc, table, feed(pc, table, head + ["REPEAT", "<num>"]))
    assert "ENDREPEAT" in loop and "ENDFOREACH" not in loop and "END" not in loop


def test_actions_keys_and_values(small):
    pc, table = small.pc, small.table
    head = ["SHORTCUT", "<str>", "ACTION"]
    actions = allowed_texts(pc, table, feed(pc, table, head))
    assert "A:text.combine" in actions and all(a.startswith("A:") for a in actions)
    assert "A:frobnicate" not in actions  # in the vocabulary (training data), not in the catalog
    after = feed(pc, table, head + ["A:text.combine"])
    keys = {t for t in allowed_texts(pc, table, after) if t.startswith("K:")}
    assert keys == {"K:WFTextSeparator", "K:text", "K:ShowWhenRun", "K:UUID", "K:CustomOutputName"}
    enum = allowed_texts(pc, table, feed(pc, table, head + ["A:text.combine", "K:WFTextSeparator"]))
    assert {t for t in enum if t.startswith("E:")} == {"E:New Lines", "E:Spaces", "E:Custom"}
    assert "<str>" not in enum and "<interp>" not in enum and "@input" in enum
    boolean = allowed_texts(pc, table, feed(pc, table, head + ["A:text.combine", "K:ShowWhenRun"]))
    assert {"true", "false"} <= boolean and "<str>" not in boolean
    used = feed(pc, table, head + ["A:text.combine", "K:ShowWhenRun", "true"])
    assert "K:ShowWhenRun" not in allowed_texts(pc, table, used)  # no key twice
    assert "K:WFTextSeparator" in allowed_texts(pc, table, used)
    generic = allowed_texts(pc, table, feed(pc, table, head + ["A:text.combine", "K:text"]))
    assert {"<str>", "<num>", "<interp>", "<qty>", "<dict>", "<list>", "<headers>"} <= generic
    assert not any(t.startswith("E:") for t in generic) and "<name>" not in generic
    uuid = allowed_texts(pc, table, feed(pc, table, head + ["A:text.combine", "K:UUID"]))
    assert uuid == {"<str>"}


def test_catalog_types_narrow_the_value_kinds(small):
    pc, table = small.pc, small.table

    def after(action: str, key: str) -> set[str]:
        return allowed_texts(pc, table, feed(pc, table, ["SHORTCUT", "<str>", "ACTION", action, key]))

    refs = {"@input", "@date"}
    slots = {"<str>", "<num>", "<interp>", "<qty>", "<dict>", "<list>", "<headers>", "true", "false"}
    assert after("A:adjustdate", "K:WFDuration") & slots == {"<qty>"} and refs <= after(
        "A:adjustdate", "K:WFDuration"
    )
    assert after("A:list", "K:WFItems") & slots == {"<list>"}
    assert after("A:number", "K:WFNumberActionNumber") & slots == {"<num>", "<str>", "<interp>"}
    assert after("A:text.combine", "K:text") & slots == slots - {"true", "false"}  # `variable`: anything
    untyped = ProgramConstraint(small.vocab, table, max_len=64)  # without a catalog: only the vocabulary
    assert allowed_texts(
        untyped, table, feed(untyped, table, ["SHORTCUT", "<str>", "ACTION", "A:list", "K:WFItems"])
    ) & slots == slots - {"true", "false"}


def test_variables_are_defined_before_use_and_numbered(small):
    pc, table = small.pc, small.table
    head = ["SHORTCUT", "<str>"]
    assert not any(t.startswith("$VAR") for t in allowed_texts(pc, table, feed(pc, table, head + ["IF"])))
    assert allowed_texts(pc, table, feed(pc, table, head + ["SET"])) == {"$VAR_1"}  # next number only
    # a SET's own value cannot use the variable it defines
    in_value = allowed_texts(pc, table, feed(pc, table, head + ["SET", "$VAR_1"]))
    assert "$VAR_1" not in in_value
    after = feed(pc, table, head + ["SET", "$VAR_1", "<num>"])
    assert allowed_texts(pc, table, pc.advance(after, table.id("SET"))) == {"$VAR_1", "$VAR_2"}
    assert "$VAR_1" in allowed_texts(pc, table, pc.advance(after, table.id("IF")))
    # setvariable's name defines it at the end of the action
    sv = head + ["ACTION", "A:setvariable", "K:WFVariableName"]
    assert allowed_texts(pc, table, feed(pc, table, sv)) == {"<name>"}
    named = feed(pc, table, sv + ["<name>", "$VAR_1", "K:WFInput"])
    assert "$VAR_1" not in allowed_texts(pc, table, named)
    done = feed(pc, table, sv + ["<name>", "$VAR_1", "IF"])
    assert "$VAR_1" in allowed_texts(pc, table, done)


def test_sibling_bodies_do_not_see_each_others_variables(small):
    pc, table = small.pc, small.table
    then = ["SHORTCUT", "<str>", "IF", "@input", "has_any_value", "SET", "$VAR_1", "<num>"]
    in_else = feed(pc, table, then + ["ELSE", "IF"])
    assert "$VAR_1" not in allowed_texts(pc, table, in_else)
    after = feed(pc, table, then + ["ENDIF", "IF"])
    assert "$VAR_1" in allowed_texts(pc, table, after)


def test_handles_in_scope(small):
    pc, table = small.pc, small.table
    head = ["SHORTCUT", "<str>"]
    top = allowed_texts(pc, table, feed(pc, table, head + ["IF"]))
    assert {"@input", "@date", "@Clipboard"} <= top
    assert not {"@prev", "@item", "@index", "@gettext", "@conditional", "$Repeat_Item"} & top
    each = allowed_texts(pc, table, feed(pc, table, head + ["FOREACH", "@input", "IF"]))
    assert {"@item", "@index", "$Repeat_Item", "$Repeat_Index"} <= each and "$Repeat_Item_2" not in each
    nested = allowed_texts(pc, table, feed(pc, table, head + ["FOREACH", "@input", "REPEAT", "<num>", "IF"]))
    assert "$Repeat_Item_2" in nested
    rep = allowed_texts(pc, table, feed(pc, table, head + ["REPEAT", "<num>", "IF"]))
    assert "@index" in rep and "@item" not in rep
    # the FOREACH header belongs to the enclosing scope
    assert "@item" not in allowed_texts(pc, table, feed(pc, table, head + ["FOREACH"]))
    act = head + ["ACTION", "A:gettext"]
    assert "@prev" not in allowed_texts(pc, table, feed(pc, table, act + ["K:WFTextActionText"]))
    after = allowed_texts(pc, table, feed(pc, table, act + ["IF"]))
    assert {"@prev", "@gettext"} <= after
    # @prev does not leave the block that produced it; a comment action produces none
    closed = feed(pc, table, head + ["IF", "@input", "has_any_value", "ACTION", "A:gettext", "ENDIF", "IF"])
    assert "@prev" not in allowed_texts(pc, table, closed) and "@conditional" in allowed_texts(
        pc, table, closed
    )
    comment = feed(pc, table, head + ["ACTION", "A:comment", "IF"])
    assert "@prev" not in allowed_texts(pc, table, comment)


def test_conditions_come_from_the_table(small):
    pc, table = small.pc, small.table
    # derived from the toolchain's table: every condition the typed IR can express has a rule
    specs = getattr(dsl_ast, "CONDITION_SPECS", {})
    inexpressible = {w for w, spec in specs.items() if spec.code is None or getattr(spec, "upper_key", None)}
    assert set(CONDITION_RULES) == set(CONDITIONS) - inexpressible
    words = allowed_texts(pc, table, feed(pc, table, ["SHORTCUT", "<str>", "IF", "@input"]))
    assert words == {w for w in CONDITION_RULES if w in table}
    for word, rule in CONDITION_RULES.items():
        if word not in table:
            continue
        after = allowed_texts(pc, table, feed(pc, table, ["SHORTCUT", "<str>", "IF", "@input", word]))
        assert ("ENDIF" in after) == (not rule.required), word
        assert ("<num>" in after) == ("num" in rule.kinds), word
        assert ("@date" in after) == ("ref" in rule.kinds), word


def test_budget_leaves_only_closers(small):
    texts = ["SHORTCUT", "<str>", "IF", "@input", "has_any_value", "FOREACH", "@input"]
    pc = ProgramConstraint(small.vocab, small.table, max_len=len(texts) + 3)
    state = feed(pc, small.table, texts)
    assert pc.remaining(state) == 3
    assert allowed_texts(pc, small.table, state) == {"ENDFOREACH"}
    state = pc.advance(state, small.table.id("ENDFOREACH"))
    assert allowed_texts(pc, small.table, state) == {"ENDIF"}
    # two spare tokens: an ACTION with no parameter or a comment fits, a SET (three tokens) does not
    pc2 = ProgramConstraint(small.vocab, small.table, max_len=len(texts) + 5)
    assert allowed_texts(pc2, small.table, feed(pc2, small.table, texts)) == {"ENDFOREACH", "ACTION", "#"}


def test_states_are_values_so_beams_can_branch(small):
    pc, table = small.pc, small.table
    base = feed(pc, table, ["SHORTCUT", "<str>", "IF", "@input", "has_any_value"])
    a = pc.advance(base, table.id("ELSE"))
    b = pc.advance(base, table.id("ENDIF"))
    assert a != b and pc.advance(base, table.id("ELSE")) == a
    assert allowed_texts(pc, table, base) >= {"ELSE", "ENDIF"}  # the old state is untouched


def test_placeholder_values_fit_their_kinds(synth):
    pc = synth.pc
    ids = synth.ids(synth.programs[0])
    slots, names = placeholder_slots(pc, ids)
    kinds = [pc.table.tokens[i][1:-1] for i in ids if pc.tier_of(pc.initial(), i) == TIER_VALUE]
    assert [s.kind for s in slots] == kinds
    assert all(isinstance(s.value, int | float) for s in slots if s.kind == "num")
    assert len(names) == len(set(names))


def test_block_depth_is_capped_below_the_parser_limit(small):
    pc = ProgramConstraint(small.vocab, small.table, max_len=64, max_depth=2)
    openers = {"IF", "MENU", "REPEAT", "FOREACH"}
    two = feed(pc, small.table, ["SHORTCUT", "<str>", "REPEAT", "<num>", "IF", "@input", "has_any_value"])
    assert not openers & allowed_texts(pc, small.table, two)
    one = feed(
        pc, small.table, ["SHORTCUT", "<str>", "REPEAT", "<num>", "IF", "@input", "has_any_value", "ENDIF"]
    )
    assert openers <= allowed_texts(pc, small.table, one)
    # the deepest walk the default cap allows still parses and compiles
    deep = ProgramConstraint(small.vocab, small.table, max_len=400, catalog=small.catalog)
    state, ids, rng = deep.initial(), [], random.Random(0)
    while not deep.is_final(state):
        choices = [int(c) for c in np.flatnonzero(deep.allowed(state))]
        preferred = [c for c in choices if deep.table.tokens[c] in openers]
        pick = preferred[0] if preferred else rng.choice(choices)
        ids.append(pick)
        state = deep.advance(state, pick)
    depth, deepest = 0, 0
    for text in [deep.table.tokens[i] for i in ids]:
        depth += (text in openers) - (text in {"ENDIF", "ENDMENU", "ENDREPEAT", "ENDFOREACH"})
        deepest = max(deepest, depth)
    assert deepest == deep.max_depth == 32
    check_program(small, deep, ids)


def action_programs(setup: Setup, rng: random.Random):
    """One program per catalog action of the vocabulary, giving every parameter key it accepts."""
    pc, table = setup.pc, setup.table
    end = table.id("END")
    head = feed(pc, table, ["SHORTCUT", "<str>", "ACTION"])
    for action in np.flatnonzero(pc.allowed(head)):
        state, ids = (
            pc.advance(head, action),
            [table.id("SHORTCUT"), table.id("<str>"), table.id("ACTION"), action],
        )
        while not pc.is_final(state):
            choices = [int(c) for c in np.flatnonzero(pc.allowed(state))]
            keys = [c for c in choices if table.tokens[c].startswith("K:")]
            pick = keys[0] if keys else end if end in choices else rng.choice(choices)
            ids.append(pick)
            state = pc.advance(state, pick)
        yield ids


@pytest.mark.parametrize("which", ["synth", "real"])
def test_every_action_with_every_key_compiles(which, request):
    setup = request.getfixturevalue(which)
    n = 0
    for ids in action_programs(setup, random.Random(0)):
        check_program(setup, setup.pc, ids)
        n += 1
    assert n == len(setup.pc._actions) > 100


def shortest_completion(pc: ProgramConstraint, state, ids: list[int]) -> list[int]:
    """Finish a program from `state` by always taking the token that leaves the least to do; it takes
    exactly `remaining(state)` tokens (the budget's estimate is the true minimum)."""
    ids, expected = list(ids), len(ids) + pc.remaining(state)
    while not pc.is_final(state):
        options = [(pc.remaining(pc.advance(state, t)), int(t)) for t in np.flatnonzero(pc.allowed(state))]
        _, pick = min(options)
        ids.append(pick)
        state = pc.advance(state, pick)
    assert len(ids) == expected <= pc.max_len
    return ids


def test_every_allowed_token_of_visited_states_leads_to_a_valid_program(small):
    """Not just walks: from each state a few walks visit, every allowed token can be completed validly."""
    pc = ProgramConstraint(small.vocab, small.table, max_len=40, catalog=small.catalog)
    rng = random.Random(7)
    checked = 0
    for _ in range(3):
        state, ids = pc.initial(), []
        while not pc.is_final(state):
            allowed = [int(t) for t in np.flatnonzero(pc.allowed(state))]
            for t in allowed:
                check_program(small, pc, shortest_completion(pc, pc.advance(state, t), ids + [t]))
                checked += 1
            pick = rng.choice(allowed)
            ids.append(pick)
            state = pc.advance(state, pick)
    print(f"\n{checked} transitions completed and compiled")
    assert checked > 200


# ----------------------------------------------------------------------------- repetition cap (decoding rule)


def _most_of_one_action(table: TokenTable, ids: list[int]) -> int:
    counts: dict[int, int] = {}
    for t in ids:
        if table.tokens[t].startswith("A:"):
            counts[t] = counts.get(t, 0) + 1
    return max(counts.values(), default=0)


def _greedy_on(cap, *preferred: int) -> list[int]:
    """A 'decoder' that always wants the first allowed of `preferred`, else the lowest allowed id."""
    state, ids = cap.initial(), []
    while not cap.is_final(state):
        mask = cap.allowed(state)
        assert mask.any()
        pick = next((t for t in preferred if mask[t]), None)
        pick = int(np.flatnonzero(mask)[0]) if pick is None else pick
        ids.append(pick)
        state = cap.advance(state, pick)
    return ids


@pytest.mark.parametrize("max_count", [1, 3, 10])
def test_repetition_cap_stops_a_runaway_action(synth, max_count):
    pc = ProgramConstraint(synth.vocab, synth.table, max_len=150, catalog=synth.catalog)
    table = synth.table
    action = next(i for i, t in enumerate(table.tokens) if t.startswith("A:"))
    wants = (action, table.id("ACTION"), table.id("END"))  # the action, as often as it may, then END
    # without the cap the runaway decoder emits that action until the budget ends
    assert _most_of_one_action(table, _greedy_on(pc, *wants)) > 10
    ids = _greedy_on(RepetitionCap(pc, max_count), *wants)
    assert _most_of_one_action(table, ids) <= max_count
    assert pc.accepts(ids)  # a narrower mask: still a program the program constraint accepts
    check_program(synth, pc, ids)


def test_repetition_cap_never_empties_the_mask(small):
    """Walks under the tightest cap: each mask is the inner mask minus capped actions only, never empty,
    and every walk is a valid program."""
    pc = ProgramConstraint(small.vocab, small.table, max_len=40, catalog=small.catalog)
    cap = RepetitionCap(pc, 1)
    rng = random.Random(0)
    for _ in range(200):
        state, ids = cap.initial(), []
        while not cap.is_final(state):
            inner, mask = pc.allowed(state.inner), cap.allowed(state)
            assert mask.any() and not (mask & ~inner).any()
            removed = np.flatnonzero(inner & ~mask)
            assert all(small.table.tokens[i].startswith("A:") for i in removed)
            pick = int(rng.choice(list(np.flatnonzero(mask))))
            ids.append(pick)
            state = cap.advance(state, pick)
        check_program(small, pc, ids)


def test_repetition_cap_rejects_bad_settings(small):
    with pytest.raises(ValueError):
        RepetitionCap(small.pc, 0)
