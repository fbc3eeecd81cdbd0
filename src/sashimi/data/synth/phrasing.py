"""Sentence frames for compositions, conditionals, menus and loops, plus a light politeness layer.

Each frame is written per register (the same registers as the template phrasings) so a composed
request reads like one sentence a person would type, not a concatenation of template outputs.
Frames take already-rendered clauses: `{a}`, `{b}`… are intent clauses, `{cond}` a condition,
`{coll}` a collection phrase, `{it}` item clauses, `{n}` a count, `{mp}` a menu title.
"""

from __future__ import annotations

import random

SEQUENCE = {
    "imperative": ["{first}, then {rest}", "First {first}, then {rest}", "{first}. After that, {rest}"],
    "question": ["Can you {first} and then {rest}?", "Could you {first}, and after that {rest}?"],
    "casual": ["ok so {first}, then {rest}", "{first} and then {rest} pls"],
    "terse": ["{first}; {rest}", "{first} -> {rest}"],
    "polite": ["Please {first}, then {rest}. Thanks!", "Would you kindly {first} and then {rest}?"],
}
SEQ_JOIN = {"terse": ("; ", "; "), "default": (", then ", ", and finally ")}

CONDITIONAL = {
    "imperative": [
        "If {cond}, {a}; otherwise {b}",
        "Check whether {cond}: if so {a}, if not {b}",
        "{a} if {cond}, else {b}",
    ],
    "question": ["Can you {a} if {cond}, and {b} otherwise?", "If {cond}, could you {a}? Otherwise {b}"],
    "casual": ["if {cond} then {a}, else just {b}", "so if {cond}, {a}, or else {b}"],
    "terse": ["if {cond}: {a} | else: {b}", "{cond}? {a} : {b}"],
    "polite": ["Please {a} when {cond}, and otherwise {b}. Thank you!"],
}
CONDITIONAL_NO_ELSE = {
    "imperative": ["If {cond}, {a}", "{a}, but only if {cond}", "When {cond}, {a}"],
    "question": ["Can you {a} if {cond}?", "If {cond}, could you {a}?"],
    "casual": ["if {cond} just {a}", "{a} but only when {cond} ok"],
    "terse": ["if {cond}: {a}", "{cond} -> {a}"],
    "polite": ["Please {a}, but only if {cond}.", "If {cond}, please {a}."],
}
MENU = {
    "imperative": [
        "Let me pick between: {options}",
        "Give me a menu to {options}",
        'Show a menu called "{mp}" with options to {options}',
    ],
    "question": ["Can you ask me whether to {options}?", 'Could you show a "{mp}" menu to {options}?'],
    "casual": ["gimme a menu: {options}", "let me choose, {options}"],
    "terse": ["menu: {options}", 'menu "{mp}": {options}'],
    "polite": ["Please let me choose to {options}.", 'Please show a menu titled "{mp}" to {options}.'],
}
MENU_JOIN = {"terse": (" | ", " | "), "default": (", ", " or ")}

FOREACH = {
    "imperative": ["For {coll}, {it}", "Go through {coll} and {it}", "Take {coll} and {it}"],
    "question": ["Can you {it} for {coll}?", "Could you go through {coll} and {it}?"],
    "casual": ["loop over {coll} and {it}", "take {coll} and {it}"],
    "terse": ["{Coll}: {it}", "{coll} -> {it}"],
    "polite": ["Please {it} for {coll}.", "For {coll}, please {it}."],
}
REPEAT = {
    "imperative": ["{A} {n} times", "Repeat {n} times: {a}", "Do this {n} times: {a}"],
    "question": ["Can you {a} {n} times?", "Could you {a}, {n} times over?"],
    "casual": ["{a} like {n} times", "{n} times: {a} lol"],
    "terse": ["{n}x {a}", "repeat {n}: {a}"],
    "polite": ["Please {a} {n} times.", "Please repeat this {n} times: {a}."],
}

COMPOSITION_STYLES = ("imperative", "question", "casual", "terse", "polite")

# Politeness / filler layer on single-intent imperative phrasings; keeps the main sentence intact.
POLITE_PREFIX = ("Please ", "Could you please ", "Hey, ", "Hi! ")
POLITE_SUFFIX = (", thanks", " please", ". Thank you!", ", cheers")


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def lower_first(s: str) -> str:
    """Lower-case the first letter unless the first word is an acronym or a proper name like "DND"."""
    word = s.split(" ", 1)[0]
    if len(word) > 1 and word[1:2].isupper():
        return s
    return s[:1].lower() + s[1:]


def join(parts: list[str], style: str, table: dict) -> str:
    sep, last = table.get(style, table["default"])
    if len(parts) == 1:
        return parts[0]
    return sep.join(parts[:-1]) + last + parts[-1]


def polish(text: str, style: str, rng: random.Random) -> tuple[str, str]:
    """Maybe add a politeness prefix/suffix to an imperative sentence; returns (text, style)."""
    if style != "imperative" or rng.random() >= 0.3:
        return text, style
    if rng.random() < 0.5:
        return rng.choice(POLITE_PREFIX) + lower_first(text), "imperative+polite"
    return text.rstrip(".") + rng.choice(POLITE_SUFFIX), "imperative+polite"
