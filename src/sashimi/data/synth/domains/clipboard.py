"""Clipboard: copy, inspect and transform what is on the clipboard."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show

CASES = V.choice(V.CASE_TYPE)
ENGINES = V.choice(
    (
        ("Google", "Google"),
        ("DuckDuckGo", "DuckDuckGo"),
        ("Bing", "Bing"),
        ("Wikipedia", "Wikipedia"),
        ("YouTube", "YouTube"),
        ("Amazon", "Amazon"),
    )
)

TEMPLATES = (
    intent(
        "clipboard.copy_text",
        "Copy Text",
        slots={"text": V.MESSAGE},
        phrasings=[
            "I: Copy {text} to the clipboard",
            "Q: Can you put {text} on my clipboard?",
            "C: clipboard {text} real quick",
            "T: copy {text}",
            "D: Copies the text {text} to the clipboard so it can be pasted anywhere.",
        ],
        clauses=["copy {text} to the clipboard", "put {text} on the clipboard"],
        build=lambda v: (act("gettext", WFTextActionText=v["text"].value), act("setclipboard")),
    ),
    intent(
        "clipboard.show",
        "Show Clipboard",
        slots={},
        phrasings=[
            "I: Show me what's on my clipboard",
            "Q: What is currently in the clipboard?",
            "C: what did I copy again? show me",
            "T: show clipboard",
            "D: Displays the current contents of the clipboard.",
        ],
        clauses=["show what's on the clipboard", "display my clipboard"],
        build=lambda v: (act("getclipboard"), show(PREV)),
    ),
    intent(
        "clipboard.change_case",
        "Clipboard Case",
        slots={"case": CASES},
        phrasings=[
            "I: Convert the clipboard text to {case}",
            "Q: Could you change whatever I copied into {case}?",
            "C: make my clipboard {case}",
            "T: clipboard -> {case}",
            "D: Changes the clipboard text to {case} and copies it back.",
        ],
        clauses=["convert the clipboard to {case}", "change the copied text to {case}"],
        build=lambda v: (
            act("getclipboard"),
            act("text.changecase", text=PREV, WFCaseType=v["case"].value),
            act("setclipboard"),
        ),
    ),
    intent(
        "clipboard.open_link",
        "Open Copied Link",
        slots={},
        phrasings=[
            "I: Open the link I copied",
            "Q: Can you find the URL in my clipboard and open it?",
            "C: open whatever link is on the clipboard",
            "T: open clipboard link",
            "D: Detects a link in the clipboard and opens it in the browser.",
        ],
        clauses=["open the link on the clipboard", "open the copied URL"],
        build=lambda v: (act("getclipboard"), act("detect.link"), act("openurl")),
    ),
    intent(
        "clipboard.speak",
        "Speak Clipboard",
        slots={},
        phrasings=[
            "I: Read my clipboard out loud",
            "Q: Could you speak the text I just copied?",
            "C: read me what's copied",
            "T: speak clipboard",
            "P: Please read the clipboard contents aloud.",
        ],
        clauses=["read the clipboard aloud", "speak what I copied"],
        build=lambda v: (act("getclipboard"), act("speaktext", WFText=PREV)),
    ),
    intent(
        "clipboard.replace",
        "Clean Clipboard",
        slots={
            "find": V.WORD,
            "repl": V.pooled(("TODO", "done", "[redacted]", "n/a", "ASAP", "note"), quote=True),
        },
        phrasings=[
            "I: Replace {find} with {repl} in my clipboard",
            "Q: Can you swap every {find} for {repl} in the copied text?",
            "C: clipboard: change {find} to {repl}",
            "T: clipboard replace {find} -> {repl}",
            "D: Replaces each occurrence of {find} with {repl} in the clipboard text and copies the result.",
        ],
        clauses=["replace {find} with {repl} on the clipboard", "swap {find} for {repl} in the copied text"],
        build=lambda v: (
            act("getclipboard"),
            act(
                "text.replace",
                WFInput=PREV,
                WFReplaceTextFind=v["find"].value,
                WFReplaceTextReplace=v["repl"].value,
            ),
            act("setclipboard"),
        ),
    ),
    intent(
        "clipboard.count_words",
        "Clipboard Word Count",
        slots={},
        phrasings=[
            "I: Count the words in my clipboard",
            "Q: How many words did I copy?",
            "C: word count of the clipboard?",
            "T: clipboard word count",
            "D: Counts the words in the clipboard and shows the number.",
        ],
        clauses=["count the words on the clipboard", "show the clipboard word count"],
        build=lambda v: (
            act("getclipboard"),
            act("count", WFCountType="Words", Input=PREV),
            show(PREV, " words"),
        ),
    ),
    intent(
        "clipboard.search",
        "Search Clipboard",
        slots={"engine": ENGINES},
        phrasings=[
            "I: Search {engine} for whatever is on my clipboard",
            "Q: Can you look up the copied text on {engine}?",
            "C: {engine} the clipboard",
            "T: search clipboard on {engine}",
            "D: Runs a {engine} search for the clipboard contents.",
        ],
        clauses=["search {engine} for the clipboard text", "look up the copied text on {engine}"],
        build=lambda v: (
            act("getclipboard"),
            act("searchweb", WFSearchWebDestination=v["engine"].value, WFInputText=PREV),
        ),
    ),
    intent(
        "clipboard.save_file",
        "Save Clipboard",
        slots={"file": V.file_name},
        phrasings=[
            "I: Save the clipboard to a file named {file}",
            "Q: Could you write my clipboard into {file} in iCloud Drive?",
            "C: dump the clipboard into {file}",
            "T: clipboard -> {file}",
            "D: Saves the current clipboard contents as {file} without asking where.",
        ],
        clauses=["save the clipboard as {file}", "write the clipboard to {file}"],
        build=lambda v: (
            act("getclipboard"),
            act(
                "documentpicker.save",
                WFInput=PREV,
                WFAskWhereToSave=False,
                WFFileDestinationPath=v["file"].value,
            ),
        ),
    ),
)
