"""Building blocks for control flow: conditions (IF), collections and per-item actions (FOREACH).

These are intent templates of their own (ids `cond.*`, `each.*`, `item.*`): they take part in the
intent combinations that the compositional split holds out, just like the domain templates.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import DATE, INPUT, ITEM, PREV, act, interp, slot_names
from sashimi.data.synth.values import Sampler, Val
from sashimi.dsl.ast import HandleRef, NumberValue, SetVariable, Statement, StringValue, Value, VarRef

# setup statements, IF target, condition word, comparison value
CondParts = tuple[tuple[Statement, ...], VarRef | HandleRef, str, Value | None]


@dataclass(frozen=True)
class ConditionTemplate:
    id: str
    title: str
    phrases: tuple[str, ...]  # clause forms after "if": "my battery is below {pct}"
    build: Callable[[Mapping[str, Val]], CondParts]
    slots: tuple[tuple[str, Sampler], ...] = ()

    def sample(self, rng: random.Random) -> dict[str, Val]:
        return {name: s(rng) for name, s in self.slots}


@dataclass(frozen=True)
class CollectionTemplate:
    id: str
    title: str
    kind: str  # what the items are: text, file, image, contact, event
    phrases: tuple[str, ...]  # quantified noun phrases: "each file I pick"
    build: Callable[[Mapping[str, Val]], tuple[tuple[Statement, ...], VarRef | HandleRef]]
    slots: tuple[tuple[str, Sampler], ...] = ()

    def sample(self, rng: random.Random) -> dict[str, Val]:
        return {name: s(rng) for name, s in self.slots}


@dataclass(frozen=True)
class ItemTemplate:
    id: str
    title: str
    kinds: frozenset[str]
    phrases: tuple[str, ...]  # imperative clauses about the item, which is "it": "share it"
    build: Callable[[Mapping[str, Val]], tuple[Statement, ...]]
    slots: tuple[tuple[str, Sampler], ...] = ()

    def sample(self, rng: random.Random) -> dict[str, Val]:
        return {name: s(rng) for name, s in self.slots}


def _check(id_: str, texts: tuple[str, ...], slots: dict) -> None:
    for t in texts:
        missing = slot_names(t) - set(slots)
        if missing:
            raise ValueError(f"{id_}: unknown slot(s) {sorted(missing)} in {t!r}")


def cond(id_, title, phrases, build, slots=None) -> ConditionTemplate:
    slots = slots or {}
    _check(id_, tuple(phrases), slots)
    return ConditionTemplate(id_, title, tuple(phrases), build, tuple(slots.items()))


def each(id_, title, kind, phrases, build, slots=None) -> CollectionTemplate:
    slots = slots or {}
    _check(id_, tuple(phrases), slots)
    return CollectionTemplate(id_, title, kind, tuple(phrases), build, tuple(slots.items()))


def item(id_, title, kinds, phrases, build, slots=None) -> ItemTemplate:
    slots = slots or {}
    _check(id_, tuple(phrases), slots)
    return ItemTemplate(id_, title, frozenset(kinds), tuple(phrases), build, tuple(slots.items()))


QUESTIONS = V.pooled(
    (
        "Are you at home?",
        "Is it a workday?",
        "Ready to start?",
        "Did you sleep well?",
        "Are you driving?",
        "Is this urgent?",
        "Going to the gym today?",
    ),
    quote=True,
)

CONDITIONS: tuple[ConditionTemplate, ...] = (
    cond(
        "cond.battery_below",
        "Battery Check",
        ["my battery is below {pct}", "the battery level is under {pct}", "I have less than {pct} battery"],
        lambda v: ((act("getbatterylevel"),), PREV, "is_less_than", NumberValue(v["pct"].value)),
        {"pct": V.integer(5, 50, step=5, fmt="{}%")},
    ),
    cond(
        "cond.clipboard_contains",
        "Clipboard Check",
        ["the clipboard contains {word}", "what I copied includes {word}", "my clipboard has {word} in it"],
        lambda v: ((act("getclipboard"),), PREV, "contains", StringValue(v["word"].value)),
        {"word": V.WORD},
    ),
    cond(
        "cond.clipboard_has_link",
        "Link Check",
        ["there's a link on the clipboard", "the clipboard has a URL", "I copied a link"],
        lambda v: ((act("getclipboard"), act("detect.link")), PREV, "has_any_value", None),
    ),
    cond(
        "cond.no_input",
        "Input Check",
        ["the shortcut gets no input", "nothing was passed in", "there is no input"],
        lambda v: ((), INPUT, "does_not_have_any_value", None),
    ),
    cond(
        "cond.answer_yes",
        "Yes/No",
        ["I answer yes to {question}", "I say yes when you ask {question}", "my answer to {question} is yes"],
        lambda v: (
            (act("ask", WFAskActionPrompt=v["question"].value),),
            PREV,
            "equals_string",
            StringValue("yes"),
        ),
        {"question": QUESTIONS},
    ),
    cond(
        "cond.after_hour",
        "Time Check",
        ["it's past {hour} o'clock", "the hour is later than {hour}", "the current hour is after {hour}"],
        lambda v: (
            (act("format.date", WFDate=DATE, WFDateFormatStyle="Custom", WFDateFormat="H"),),
            PREV,
            "is_greater_than",
            NumberValue(v["hour"].value),
        ),
        {"hour": V.integer(6, 22)},
    ),
    cond(
        "cond.weekday_is",
        "Day Check",
        ["today is {day}", "it's a {day}", "the day is {day}"],
        lambda v: (
            (act("format.date", WFDate=DATE, WFDateFormatStyle="Custom", WFDateFormat="EEEE"),),
            PREV,
            "equals_string",
            StringValue(v["day"].value),
        ),
        {"day": V.WEEKDAY},
    ),
    cond(
        "cond.wifi_is",
        "Network Check",
        ['I\'m on the "{ssid}" Wi-Fi', 'my Wi-Fi network is "{ssid}"', 'I\'m connected to "{ssid}"'],
        lambda v: (
            (act("getwifi", WFNetworkDetailsNetwork="Wi-Fi", WFWiFiDetail="Network Name"),),
            PREV,
            "equals_string",
            StringValue(v["ssid"].value),
        ),
        {"ssid": V.SSID},
    ),
    cond(
        "cond.number_above",
        "Number Check",
        [
            "the number I type is more than {n}",
            "the number I enter is above {n}",
            "I enter a number bigger than {n}",
        ],
        lambda v: (
            (act("ask", WFInputType="Number", WFAskActionPrompt="Enter a number"),),
            PREV,
            "is_greater_than",
            NumberValue(v["n"].value),
        ),
        {"n": V.integer(1, 500)},
    ),
)


def _listed(v):
    return (act("list", WFItems=v["items"].value), SetVariable("Items", PREV)), VarRef("Items")


def _lines(v):
    return (
        (
            act("getclipboard"),
            act("text.split", text=PREV, WFTextSeparator="New Lines"),
            SetVariable("Lines", PREV),
        ),
        VarRef("Lines"),
    )


COLLECTIONS: tuple[CollectionTemplate, ...] = (
    each(
        "each.files",
        "Selected Files",
        "file",
        ["each file I pick", "every file I select", "all the files I choose"],
        lambda v: ((act("file.select", SelectMultiple=True),), PREV),
    ),
    each(
        "each.photos",
        "Selected Photos",
        "image",
        ["each photo I pick", "every picture I select", "all the photos I choose"],
        lambda v: ((act("selectphoto", WFSelectMultiplePhotos=True),), PREV),
    ),
    each(
        "each.latest_photos",
        "Latest Photos",
        "image",
        [
            "each of my last {n} photos",
            "every one of my {n} latest pictures",
            "my {n} most recent photos, one by one",
        ],
        lambda v: ((act("getlastphoto", WFGetLatestPhotoCount=v["n"].value),), PREV),
        {"n": V.integer(2, 12)},
    ),
    each(
        "each.clipboard_lines",
        "Clipboard Lines",
        "text",
        ["each line of my clipboard", "every line I copied", "all the lines on the clipboard"],
        _lines,
    ),
    each(
        "each.items",
        "List",
        "text",
        ["each of {items}", "every item in the list {items}", "each one of {items}"],
        _listed,
        {"items": V.list_items},
    ),
    each(
        "each.events",
        "Upcoming Events",
        "event",
        [
            "each of my next {n} events",
            "every one of my next {n} calendar events",
            "my next {n} events, one by one",
        ],
        lambda v: ((act("getupcomingevents", WFGetUpcomingItemCount=v["n"].value),), PREV),
        {"n": V.integer(2, 8)},
    ),
    each(
        "each.contacts",
        "Selected Contacts",
        "contact",
        ["each contact I pick", "every person I select", "all the contacts I choose"],
        lambda v: ((act("selectcontacts", WFSelectMultiple=True),), PREV),
    ),
)

ITEMS: tuple[ItemTemplate, ...] = (
    item(
        "item.add_reminder",
        "Add Reminders",
        {"text", "event"},
        ["add it as a reminder", "create a reminder for it", "make it a reminder"],
        lambda v: (act("addnewreminder", WFCalendarItemTitle=interp(ITEM)),),
    ),
    item(
        "item.speak",
        "Speak Each",
        {"text", "event"},
        ["read it aloud", "speak it", "say it out loud"],
        lambda v: (act("speaktext", WFText=interp(ITEM)),),
    ),
    item(
        "item.show",
        "Show Each",
        {"text", "event", "file", "image", "contact"},
        ["show it", "display it", "show it to me"],
        lambda v: (act("showresult", Text=interp(ITEM)),),
    ),
    item(
        "item.share",
        "Share Each",
        {"file", "image"},
        ["share it", "open the share sheet for it", "share it out"],
        lambda v: (act("share", WFInput=ITEM),),
    ),
    item(
        "item.resize",
        "Resize Each",
        {"image"},
        [
            "resize it to {width} pixels wide and save it",
            "shrink it to {width}px and save the copy",
            "make it {width} pixels wide and keep it",
        ],
        lambda v: (
            act("image.resize", WFImage=ITEM, WFImageResizeWidth=v["width"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
        {"width": V.integer(320, 2048, step=32)},
    ),
    item(
        "item.convert",
        "Convert Each",
        {"image"},
        ["convert it to {fmt} and save it", "turn it into a {fmt} and save it", "save it as {fmt}"],
        lambda v: (
            act("image.convert", WFInput=ITEM, WFImageFormat=v["fmt"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
        {"fmt": V.choice((("JPEG", "JPEG"), ("PNG", "PNG"), ("HEIF", "HEIF")))},
    ),
    item(
        "item.append_note",
        "Append Each",
        {"text", "event"},
        ['append it to my "{note}" note', 'add it to the "{note}" note', 'put it in my "{note}" note'],
        lambda v: (act("appendnote", WFNote=v["note"].value, WFInput=ITEM),),
        {"note": V.NOTE_TITLE},
    ),
    item(
        "item.send",
        "Send Each",
        {"text", "file", "image"},
        ["send it to {who}", "text it to {who}", "message it to {who}"],
        lambda v: (
            act("sendmessage", WFSendMessageActionRecipients=v["who"].value, WFSendMessageContent=ITEM),
        ),
        {"who": V.PERSON},
    ),
    item(
        "item.save_copy",
        "Copy Each",
        {"file", "image"},
        ['save a copy in "{folder}"', 'save it to the "{folder}" folder', 'copy it into "{folder}"'],
        lambda v: (
            act(
                "documentpicker.save",
                WFInput=ITEM,
                WFAskWhereToSave=False,
                WFFileDestinationPath=v["folder"].value,
            ),
        ),
        {"folder": V.folder},
    ),
    item(
        "item.text_contact",
        "Text Each",
        {"contact"},
        ["text them {msg}", "send them the message {msg}", "message them {msg}"],
        lambda v: (
            act("sendmessage", WFSendMessageActionRecipients=ITEM, WFSendMessageContent=v["msg"].value),
        ),
        {"msg": V.MESSAGE},
    ),
)

# The domain each control template belongs to (for per-domain counts; "control" if none fits).
CONTROL_DOMAINS = {
    "cond.battery_below": "device",
    "cond.clipboard_contains": "clipboard",
    "cond.clipboard_has_link": "clipboard",
    "cond.no_input": "apps",
    "cond.answer_yes": "apps",
    "cond.after_hour": "dates",
    "cond.weekday_is": "dates",
    "cond.wifi_is": "device",
    "cond.number_above": "apps",
    "each.files": "files",
    "each.photos": "photos",
    "each.latest_photos": "photos",
    "each.clipboard_lines": "clipboard",
    "each.items": "notes",
    "each.events": "calendar",
    "each.contacts": "messaging",
    "item.add_reminder": "calendar",
    "item.speak": "notes",
    "item.show": "notes",
    "item.share": "files",
    "item.resize": "photos",
    "item.convert": "photos",
    "item.append_note": "notes",
    "item.send": "messaging",
    "item.save_copy": "files",
    "item.text_contact": "messaging",
}
