"""Where each Tier 3 slot sits, read from the token texts alone (what the decoder emits).

`slot_contexts(tokens)` replays the same statement grammar as `sashimi.ir.typed._Encoder` just far enough
to know, for every slot token (`<str>`, `<num>`, ...), its role, the action and parameter it fills and a
little of its neighbourhood. It must agree with `to_typed`'s `Slot.role/action/param` on every program
(tests check this on the synthetic and the real corpus), because the filler is trained on `to_typed`
slots and used on decoded token sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sashimi.ir.typed import ACTION_PREFIX, KEY_PREFIX, SLOT_TOKENS

_SLOT_TOKENS = frozenset(SLOT_TOKENS)
# Statement keyword -> the role of a value that follows it directly (None: no value follows).
_ROLE_AFTER = {
    "SHORTCUT": "name",
    "SET": "set",
    "IF": "compare",
    "MENU": "menu_prompt",
    "CASE": "case_label",
    "REPEAT": "repeat_count",
    "#": "comment",
    "ACTION": "param",
}
_NO_VALUE = frozenset({"ELSE", "ENDIF", "ENDMENU", "ENDREPEAT", "FOREACH", "ENDFOREACH", "END"})


@dataclass(frozen=True)
class SlotContext:
    """One Tier 3 slot of a token sequence and what surrounds it."""

    index: int  # ordinal of the slot among the sequence's slots (= TypedProgram.slots index)
    position: int  # index of the slot token in `tokens`
    kind: str  # "str" | "num" | "text" | "unit" | "dict" | "list" | "headers"
    role: str  # name | param | set | compare | menu_prompt | case_label | repeat_count | comment
    action: str | None = None  # canonical action name for role == "param"
    param: str | None = None
    # For `<text>` runs: the shape of the enclosing `<interp> … </interp>` with this run marked `^`
    # (e.g. "@prev ^"), so the filler can tell "Tip: {@prev}" from "{@prev} days to go".
    interp_shape: str | None = None
    in_qty: bool = False  # magnitude or unit of a `<qty>` value
    condition: str | None = None  # the IF condition word for role == "compare"
    next_action: str | None = None  # the first action after the slot (case labels, names)
    statement: int = 0  # ordinal of the statement the slot belongs to (0 = the SHORTCUT header)
    # The first action or condition word after the slot's own statement: what the value feeds into
    # (an Ask prompt before a number check reads "Enter a number"; a date format before `is_greater_than`
    # is "H", before `equals_string` "EEEE").
    following: str | None = None


def slot_contexts(tokens: Sequence[str]) -> list[SlotContext]:
    """The context of every Tier 3 slot token in `tokens` (token texts of a typed program), in order.

    Tolerant by design: an ill-formed sequence still yields one context per slot token (with the role
    the nearest preceding statement keyword gives), so a decoder bug never crashes the filler.
    """
    tokens = [str(t) for t in tokens]
    actions_after = _next_actions(tokens)
    following = _following(tokens)
    out: list[SlotContext] = []
    role: str | None = None
    action: str | None = None
    param: str | None = None
    condition: str | None = None
    statement = -1
    interp_start: int | None = None
    in_qty = False
    for pos, text in enumerate(tokens):
        if text in _ROLE_AFTER:
            role, action, param, condition = _ROLE_AFTER[text], None, None, None
            statement += 1
            interp_start, in_qty = None, False
            continue
        if text in _NO_VALUE:
            role, action, param, condition = None, None, None, None
            statement += text == "FOREACH"
            interp_start, in_qty = None, False
            continue
        if text.startswith(ACTION_PREFIX) and role == "param" and action is None:
            action = text[len(ACTION_PREFIX) :]
            continue
        if text.startswith(KEY_PREFIX):
            param = text[len(KEY_PREFIX) :]
            interp_start, in_qty = None, False
            continue
        if role == "compare" and condition is None and pos > 0 and not text.startswith(("$", "@")):
            if tokens[pos - 1].startswith(("$", "@")):
                condition = text
                continue
        if text == "<interp>":
            interp_start = pos
            continue
        if text == "</interp>":
            interp_start = None
            continue
        if text == "<qty>":
            in_qty = True
            continue
        if text in _SLOT_TOKENS:
            kind = text[1:-1]
            shape = _interp_shape(tokens, interp_start, pos) if interp_start is not None else None
            out.append(
                SlotContext(
                    index=len(out),
                    position=pos,
                    kind=kind,
                    role=role or "param",
                    action=action if role == "param" else None,
                    param=param if role == "param" else None,
                    interp_shape=shape,
                    in_qty=in_qty,
                    condition=condition,
                    next_action=actions_after[pos],
                    statement=max(statement, 0),
                    following=following[pos],
                )
            )
            if kind == "unit":
                in_qty = False
    return out


def _next_actions(tokens: list[str]) -> list[str | None]:
    """For each position, the first action token strictly after it (without the `A:` prefix)."""
    out: list[str | None] = [None] * len(tokens)
    nxt: str | None = None
    for pos in range(len(tokens) - 1, -1, -1):
        out[pos] = nxt
        if tokens[pos].startswith(ACTION_PREFIX):
            nxt = tokens[pos][len(ACTION_PREFIX) :]
    return out


def _following(tokens: list[str]) -> list[str | None]:
    """For each position, the first action or condition word after the statement holding it."""
    from sashimi.dsl.ast import CONDITIONS

    conditions = frozenset(CONDITIONS)
    out: list[str | None] = [None] * len(tokens)
    nxt: str | None = None  # first action/condition at or after the next statement start
    pending: str | None = None  # first action/condition seen since the last statement start
    for pos in range(len(tokens) - 1, -1, -1):
        t = tokens[pos]
        if t.startswith(ACTION_PREFIX) or t in conditions:
            pending = t
        out[pos] = nxt
        if (
            t in _ROLE_AFTER or t in _NO_VALUE
        ):  # a statement starts here: its content is "next" for earlier ones
            nxt = pending if pending is not None else nxt
            pending = None
    return out


def _interp_shape(tokens: list[str], start: int, here: int) -> str:
    parts: list[str] = []
    for pos in range(start + 1, min(len(tokens), start + 40)):
        text = tokens[pos]
        if text == "</interp>":
            break
        if pos == here:
            parts.append("^")
        elif text == "<text>":
            parts.append("_")
        elif text.startswith("$VAR_"):
            parts.append("$VAR")
        else:
            parts.append(text)
    return " ".join(parts)


__all__ = ["SlotContext", "slot_contexts"]
