"""Literal identity, JSON form and the validity rules every filled value obeys.

A slot's literal is compared by `value_key` (so `5` and `5.0` differ, as their DSL spellings do) and
stored in JSON by `literal_to_json` / `literal_from_json`. `make_valid` is the last word on every value
the filler writes: whatever a candidate source proposed, the result prints, parses, validates strict
and compiles in its slot (see the rules there).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sashimi.dsl.ast import DictLiteral, HandleRef, HeadersLiteral, ListLiteral, VarRef, walk_values
from sashimi.ir.typed import value_from_json, value_to_json
from sashimi.model.filler.prompt import clean_text

BLOB_KINDS = ("dict", "list", "headers")
_BLOB_TYPES = {"dict": DictLiteral, "list": ListLiteral, "headers": HeadersLiteral}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BUILTIN = re.compile(r"Repeat_(Item|Index)(_[0-9]+)?\Z")


def value_key(kind: str, value: Any) -> str:
    """A string identity of a literal of `kind` (equal keys <=> equal DSL spelling)."""
    if kind in BLOB_KINDS:
        return json.dumps(value_to_json(value), ensure_ascii=False)
    if kind == "num":
        return json.dumps(value)  # 5 -> "5", 5.0 -> "5.0"
    return str(value)


def literal_to_json(kind: str, value: Any) -> Any:
    return value_to_json(value) if kind in BLOB_KINDS else value


def literal_from_json(kind: str, obj: Any) -> Any:
    if kind in BLOB_KINDS:
        value = value_from_json(obj)
        if not isinstance(value, _BLOB_TYPES[kind]):
            raise ValueError(f"a {kind} literal holds {type(value).__name__}")
        return value
    if kind == "num":
        if isinstance(obj, bool) or not isinstance(obj, int | float):
            raise ValueError(f"number literal {obj!r}")
        return obj
    if not isinstance(obj, str):
        raise ValueError(f"{kind} literal {obj!r}")
    return obj


def blob_is_self_contained(value: Any) -> bool:
    """No variable or handle inside: a learned dict/list from another program stays valid anywhere."""
    return not any(isinstance(v, VarRef | HandleRef) for v in walk_values(value))


def empty_blob(kind: str) -> Any:
    return _BLOB_TYPES[kind](())


def make_valid(kind: str, role: str, value: Any) -> Any:
    """`value` made legal for a slot of `kind` and `role` (a no-op for a value that already is).

    - num: a finite int or float (a REPEAT count: a positive int);
    - str/unit/text: no lone surrogates or control characters (LF and TAB kept), at most
      `MAX_LITERAL_CHARS`; a `<text>` run has no backtick or brace (backtick strings cannot hold them)
      and is never empty; a `#` comment is one line without edge whitespace; a unit is never empty;
    - dict/list/headers: the right literal type without references (else the empty literal).
    """
    if kind == "num":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            value = 1
        if role == "repeat_count":
            value = max(1, min(int(value), 10_000))
        return value
    if kind in BLOB_KINDS:
        if isinstance(value, _BLOB_TYPES[kind]) and blob_is_self_contained(value):
            return value
        return empty_blob(kind)
    text = clean_text(value if isinstance(value, str) else str(value))
    if kind == "text":
        text = text.replace("`", "'").replace("{", "(").replace("}", ")")
        return text or " "
    if role == "comment":
        text = " ".join(text.split())
    if kind == "unit":
        text = " ".join(text.split()) or "min"
    return text


def valid_identifier(name: str) -> bool:
    return bool(_IDENT.match(name)) and not _BUILTIN.match(name)


def identifier_from(text: str) -> str:
    """A DSL identifier made from free text ("my list" -> "MyList"); "" when nothing usable is left."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words)[:40]
    if name and name[0].isdigit():
        name = "V" + name
    return name if valid_identifier(name) else ""


__all__ = [
    "BLOB_KINDS",
    "blob_is_self_contained",
    "empty_blob",
    "identifier_from",
    "literal_from_json",
    "literal_to_json",
    "make_valid",
    "valid_identifier",
    "value_key",
]
