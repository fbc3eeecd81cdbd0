"""Comparing compiled plists "up to UUID renaming" (issue 11's round-trip criterion).

UUIDs (action `UUID`s, `OutputUUID`s, `GroupingIdentifier`s) are generated afresh by every compile,
so two plists are the same program when one becomes the other under a consistent one-to-one renaming
of UUID strings; every other key and value must be equal (`2.0 == 2`: integral floats print as ints),
except a reference's `OutputName`: the editor's label, which the compiler recomputes from the catalog
(Apple links references by `OutputUUID`; a third-party intent's label is not in any catalog).
"""

from __future__ import annotations

import re
from typing import Any

UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def first_difference(a: Any, b: Any, path: str = "$", mapping: dict | None = None) -> str | None:
    """Where `a` and `b` first differ (None when equal up to a consistent UUID renaming)."""
    mapping = {} if mapping is None else mapping
    if isinstance(a, str) and isinstance(b, str) and UUID_RE.fullmatch(a) and UUID_RE.fullmatch(b):
        if mapping.setdefault(("a", a), b) != b or mapping.setdefault(("b", b), a) != a:
            return f"{path}: UUID {a} renamed inconsistently"
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))} differ"
        for key in a:
            if key == "OutputName" and "OutputUUID" in a:
                continue
            diff = first_difference(a[key], b[key], f"{path}.{key}", mapping)
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = first_difference(x, y, f"{path}[{i}]", mapping)
            if diff:
                return diff
        return None
    if isinstance(a, bool) != isinstance(b, bool) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def same_up_to_uuid_renaming(a: Any, b: Any) -> bool:
    return first_difference(a, b) is None
