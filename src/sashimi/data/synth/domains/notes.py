"""Notes and text: notes, spoken text, alerts, notifications, text transforms."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show

NOTE = "com.apple.mobilenotes.SharingExtension"
CASES = V.choice(V.CASE_TYPE)

TEMPLATES = (
    intent(
        "notes.create_note",
        "New Note",
        slots={"text": V.NOTE_TEXT},
        phrasings=[
            "I: Create a note that says {text}",
            "Q: Can you make a new note with {text}?",
            "C: jot this down in Notes: {text}",
            "T: note {text}",
            "D: Creates a new note in the Notes app containing {text}.",
        ],
        clauses=["create a note saying {text}", "save {text} as a new note"],
        build=lambda v: (act(NOTE, WFCreateNoteInput=v["text"].value),),
    ),
    intent(
        "notes.append_note",
        "Append to Note",
        slots={"text": V.NOTE_TEXT, "note": V.NOTE_TITLE},
        phrasings=[
            'I: Append {text} to my "{note}" note',
            'Q: Could you add {text} to the end of the note "{note}"?',
            'C: tack {text} onto my "{note}" note',
            'T: "{note}" += {text}',
            'D: Appends {text} to the existing note called "{note}".',
        ],
        clauses=['append {text} to the "{note}" note', 'add {text} to my "{note}" note'],
        build=lambda v: (act("appendnote", WFNote=v["note"].value, WFInput=v["text"].value),),
    ),
    intent(
        "notes.speak",
        "Speak Text",
        slots={"text": V.SPEAK},
        phrasings=[
            "I: Say {text} out loud",
            "Q: Can you speak the words {text}?",
            "C: read {text} aloud for me",
            "T: speak {text}",
            "D: Uses text to speech to say {text}.",
        ],
        clauses=["say {text} out loud", "speak {text}"],
        build=lambda v: (act("speaktext", WFText=v["text"].value),),
        tags=("repeatable",),
    ),
    intent(
        "notes.alert",
        "Show Alert",
        slots={
            "title": V.pooled(("Heads up", "Reminder", "Done", "Warning", "Break time", "Hello")),
            "text": V.SPEAK,
        },
        phrasings=[
            'I: Show an alert titled "{title}" with the message {text}',
            'Q: Can you pop up an alert "{title}" that says {text}?',
            'C: alert me, "{title}", {text}',
            'T: alert "{title}": {text}',
            'D: Displays an alert with the title "{title}" and the message {text}.',
        ],
        clauses=['show the alert "{title}" saying {text}', 'pop up an alert "{title}" with {text}'],
        build=lambda v: (
            act("alert", WFAlertActionTitle=v["title"].value, WFAlertActionMessage=v["text"].value),
        ),
    ),
    intent(
        "notes.notify",
        "Notify Me",
        slots={"text": V.MESSAGE},
        phrasings=[
            "I: Send me a notification that says {text}",
            "Q: Could you show a notification with {text}?",
            "C: buzz me with {text}",
            "T: notify {text}",
            "P: Please display the notification {text}.",
        ],
        clauses=["notify me with {text}", "show a notification saying {text}"],
        build=lambda v: (act("notification", WFNotificationActionBody=v["text"].value),),
        tags=("repeatable",),
    ),
    intent(
        "notes.word_count",
        "Word Count",
        slots={},
        phrasings=[
            "I: Ask me for some text and count its words",
            "Q: Can you tell me how many words are in a text I type?",
            "C: let me paste something and tell me the word count",
            "T: word count of typed text",
            "D: Prompts for text, counts the words and shows the total.",
        ],
        clauses=["count the words in text I type", "ask me for text and show its word count"],
        build=lambda v: (
            act("ask", WFAskActionPrompt="Enter your text", WFAllowsMultilineText=True),
            act("count", WFCountType="Words", Input=PREV),
            show(PREV, " words"),
        ),
    ),
    intent(
        "notes.translate",
        "Translate",
        slots={"text": V.SPEAK, "lang": V.LANGUAGE},
        phrasings=[
            "I: Translate {text} into {lang}",
            "Q: How do you say {text} in {lang}?",
            "C: {text} in {lang} please, translate it",
            "T: translate {text} -> {lang}",
            "D: Translates the text {text} to {lang} and shows the result.",
        ],
        clauses=["translate {text} into {lang}", "show {text} in {lang}"],
        build=lambda v: (
            act("text.translate", WFInputText=v["text"].value, WFSelectedLanguage=v["lang"].value),
            show(PREV),
        ),
    ),
    intent(
        "notes.dictate_note",
        "Dictate Note",
        slots={},
        phrasings=[
            "I: Let me dictate a note and save it to Notes",
            "Q: Can you take down what I say and make it a note?",
            "C: voice memo to notes, just listen and save",
            "T: dictate -> new note",
            "D: Transcribes your speech and saves it as a new note.",
        ],
        clauses=["let me dictate a note", "take a dictated note"],
        build=lambda v: (act("dictatetext"), act(NOTE, WFCreateNoteInput=PREV)),
    ),
    intent(
        "notes.change_case",
        "Change Case",
        slots={"text": V.NOTE_TEXT, "case": CASES},
        phrasings=[
            "I: Convert {text} to {case} and show it",
            "Q: Could you put {text} in {case}?",
            "C: make {text} {case}",
            "T: {case}: {text}",
            "D: Changes the text {text} to {case} and displays the result.",
        ],
        clauses=["convert {text} to {case}", "show {text} in {case}"],
        build=lambda v: (
            act("gettext", WFTextActionText=v["text"].value),
            act("text.changecase", text=PREV, WFCaseType=v["case"].value),
            show(PREV),
        ),
    ),
)
