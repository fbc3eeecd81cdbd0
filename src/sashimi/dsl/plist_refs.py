"""Shared vocabulary of Apple's `.shortcut` plist format (shortcutdsl.md §3), used by both the
compiler and the decompiler so the two directions cannot drift apart.

Only constants and tiny pure helpers live here: identifiers, condition codes, reference types,
the three `handle_wrap` forms, text-token construction and UTF-16 offsets.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

from sashimi.dsl import ast as _ast
from sashimi.dsl.output_names import BLOCK_OUTPUT_NAMES  # noqa: F401 - re-exported: end-marker outputs

PREFIX = "is.workflow.actions."
COMMENT = PREFIX + "comment"
SETVARIABLE = PREFIX + "setvariable"
APPENDVARIABLE = PREFIX + "appendvariable"
CONDITIONAL = PREFIX + "conditional"
MENU = PREFIX + "choosefrommenu"
REPEAT_COUNT = PREFIX + "repeat.count"
REPEAT_EACH = PREFIX + "repeat.each"
CONTROL_FLOW = frozenset({CONDITIONAL, MENU, REPEAT_COUNT, REPEAT_EACH})

# Condition words and codes live in `sashimi.dsl.ast.CONDITION_TABLE` (§1.7a); these are views of it.
CONDITION_SPECS = _ast.CONDITION_SPECS
# Every key a condition writes its value(s) under, in the order the decompiler prefers them when a
# real file holds several (stale values of other types are common): text first, then numbers, ...
COMPARE_KEYS = (
    "WFConditionalActionString",
    "WFNumberValue",
    "WFEnumeration",
    "WFLinkEnumeration",
    "WFBooleanValue",
    "WFDate",
)
UPPER_KEYS = ("WFAnotherNumber", "WFAnotherDate")
# `WFCondition` as text, as some third-party compilers and old exports write it.
TEXT_CONDITION_CODES = MappingProxyType(
    {
        "Is Less Than": 0,
        "Is Less Than or Equal To": 1,
        "Is Greater Than": 2,
        "Is Greater Than or Equal To": 3,
        "Equals": 4,
        "Is": 4,
        "Is Not": 5,
        "Not Equals": 5,
        "Begins With": 8,
        "Ends With": 9,
        "Contains": 99,
        "Has Any Value": 100,
        "Does Not Have Any Value": 101,
        "Does Not Contain": 999,
        "Is Today": 1002,
        "Is Between": 1003,
    }
)
# How a reference is wrapped under each comparison key (§3.7 "Comparison value").
COMPARE_WRAP = MappingProxyType({"WFConditionalActionString": "token_string"})  # others: attachment

# Magic values referenced by `{"Type": Name}` (§3.3.1) and the block-output handles (§3.3.3 step 2).
MAGIC_HANDLES = frozenset({"DeviceDetails", "Ask", "Clipboard", "AskEachTime"})
BLOCK_HANDLES = MappingProxyType(
    {
        "conditional": CONDITIONAL,
        "choosefrommenu": MENU,
        "repeat_each": REPEAT_EACH,
        "repeat_count": REPEAT_COUNT,
    }
)
BLOCK_HANDLE_OF = MappingProxyType({ident: name for name, ident in BLOCK_HANDLES.items()})

# Envelope defaults of the reference (§3.9).
ENVELOPE_KEYS = (
    "WFWorkflowActions",
    "WFWorkflowClientVersion",
    "WFWorkflowIcon",
    "WFWorkflowImportQuestions",
    "WFWorkflowInputContentItemClasses",
    "WFWorkflowMinimumClientVersion",
    "WFWorkflowMinimumClientVersionString",
    "WFWorkflowTypes",
)
INPUT_TYPES = MappingProxyType(
    {
        "string": "WFStringContentItem",
        "image": "WFImageContentItem",
        "url": "WFURLContentItem",
        "file": "WFGenericFileContentItem",
        "rich_text": "WFRichTextContentItem",
        "pdf": "WFPDFContentItem",
        "date": "WFDateContentItem",
        "location": "WFLocationContentItem",
        "contact": "WFContactContentItem",
        "email": "WFEmailAddressContentItem",
        "phone": "WFPhoneNumberContentItem",
        "number": "WFNumberContentItem",
        "dictionary": "WFDictionaryContentItem",
        "boolean": "WFBooleanContentItem",
    }
)
WORKFLOW_TYPES = MappingProxyType(
    {
        "widget": "NCWidget",
        "watch": "WatchKit",
        "menu": "Sleep",
        "automation": "AutomationTrigger",
        "quick_action": "ReceivesOnScreenContent",
    }
)

# Loop variables as Apple names them; the DSL spells them with underscores (§3.5).
REPEAT_VAR_DSL = re.compile(r"Repeat_(Item|Index)(?:_(\d+))?")
REPEAT_VAR_APPLE = re.compile(r"Repeat (Item|Index)(?: \d+)?")
BINARY_PLACEHOLDER = re.compile(r"<binary:\d+bytes>")
RANGE_KEY = re.compile(r"\{\s*(\d+)\s*,\s*(\d+)\s*\}")
# Names keep Unicode letters and digits (issue 11.7: two variables named in Chinese must not both
# become `__`); every other character becomes `_`, as in the data's decompiler for ASCII names.
_NON_IDENT = re.compile(r"\W")
IDENT = re.compile(r"[^\W\d]\w*")
OBJECT_REPLACEMENT = "\ufffc"


def sanitize(name: str) -> str:
    """The decompiler's name mangling (§1.5): non-word characters → `_`, a leading digit gets `_`.

    Word characters are Unicode letters, digits and `_` (the data's names are ASCII, so its
    mangling is unchanged)."""
    out = _NON_IDENT.sub("_", name)
    if out[:1].isdigit():
        out = "_" + out
    return out


def uuid_handle(action_uuid: str) -> str:
    """The named handle that refers to the action with this explicit `UUID=` (issue 11.9): what the
    faithful decompiler prints when the action's name would resolve to another action."""
    return "uuid_" + _NON_IDENT.sub("_", action_uuid)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Apple's attachment offsets count these, not code points (§3.6)."""
    return len(text.encode("utf-16-le")) // 2


def range_key(pos: int, length: int = 1) -> str:
    return f"{{{pos}, {length}}}"


def attachment(ref: dict) -> dict:
    return {"Value": ref, "WFSerializationType": "WFTextTokenAttachment"}


def token_string(text: str, ranges: dict[str, dict] | None = None) -> dict:
    value: dict[str, Any] = {"string": text}
    if ranges:
        value["attachmentsByRange"] = ranges
    return {"Value": value, "WFSerializationType": "WFTextTokenString"}


def wrap(rule: str | None, ref: dict) -> dict:
    """Wrap a bare reference for use as a whole parameter value (§3.4 `handle_wrap`)."""
    if rule == "token_string":
        return token_string(OBJECT_REPLACEMENT, {range_key(0): ref})
    if rule == "variable_ref":
        return {"Type": "Variable", "Variable": attachment(ref)}
    return attachment(ref)  # "attachment", null and unknown rules alike (§3.4)
