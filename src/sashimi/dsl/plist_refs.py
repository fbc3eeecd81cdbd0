"""Shared vocabulary of Apple's `.shortcut` plist format (shortcutdsl.md §3), used by both the
compiler and the decompiler so the two directions cannot drift apart.

Only constants and tiny pure helpers live here: identifiers, condition codes, reference types,
the three `handle_wrap` forms, text-token construction and UTF-16 offsets.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

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

# DSL condition word <-> Apple `WFCondition` code (§1.7).
CONDITION_CODES = MappingProxyType(
    {
        "equals_number": 0,
        "is_greater_than": 2,
        "is_less_than": 3,
        "equals_string": 4,
        "not_equal_string": 5,
        "contains": 99,
        "does_not_contain": 999,
        "has_any_value": 100,
        "does_not_have_any_value": 101,
        "is_before": 1002,
    }
)
CONDITION_WORDS = MappingProxyType({code: word for word, code in CONDITION_CODES.items()})
NUMBER_CONDITIONS = frozenset({"equals_number", "is_greater_than", "is_less_than"})
EXISTENCE_CONDITIONS = frozenset({"has_any_value", "does_not_have_any_value"})
# The order in which the decompiler looks for a comparison value (§4.1).
COMPARE_KEYS = ("WFNumberValue", "WFConditionalActionString", "WFDate")
ENUM_COMPARE_KEYS = ("WFEnumeration", "WFLinkEnumeration")
# How a reference is wrapped under each comparison key (§3.7 "Comparison value").
COMPARE_WRAP = MappingProxyType(
    {"WFConditionalActionString": "token_string", "WFNumberValue": "attachment", "WFDate": "attachment"}
)

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
_NON_IDENT = re.compile(r"[^A-Za-z0-9_]")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OBJECT_REPLACEMENT = "\ufffc"


def sanitize(name: str) -> str:
    """The decompiler's name mangling (§1.5): non-`[A-Za-z0-9_]` → `_`, leading digit gets `_`."""
    out = _NON_IDENT.sub("_", name)
    if out[:1].isdigit():
        out = "_" + out
    return out


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
