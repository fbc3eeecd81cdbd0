"""Messaging and mail: texts, emails, sharing with contacts."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, interp
from sashimi.dsl.ast import SetVariable, VarRef

LATE = V.integer(5, 45, step=5)

TEMPLATES = (
    intent(
        "messaging.send_text",
        "Send Message",
        slots={"who": V.PERSON, "text": V.MESSAGE},
        phrasings=[
            "I: Text {who} {text}",
            "Q: Can you send {who} a message saying {text}?",
            "C: msg {who}: {text}",
            "T: {who} <- {text}",
            "P: Please send {text} to {who}.",
        ],
        clauses=["text {who} {text}", "send {who} the message {text}"],
        build=lambda v: (
            act(
                "sendmessage",
                WFSendMessageActionRecipients=v["who"].value,
                WFSendMessageContent=v["text"].value,
            ),
        ),
    ),
    intent(
        "messaging.send_email",
        "Send Email",
        slots={"to": V.email, "subject": V.SUBJECT, "body": V.MESSAGE},
        phrasings=[
            "I: Email {to} with the subject {subject} and the body {body}",
            "Q: Could you send an email to {to}, subject {subject}, saying {body}?",
            "C: shoot {to} an email, {subject}, {body}",
            "T: email {to} subj {subject} body {body}",
            "D: Sends an email to {to} with subject {subject} and body {body}.",
        ],
        clauses=["email {to} about {subject} saying {body}", "send {to} an email {subject} with {body}"],
        build=lambda v: (
            act("gettext", WFTextActionText=v["body"].value),
            act(
                "sendemail",
                WFSendEmailActionToRecipients=v["to"].value,
                WFSendEmailActionSubject=v["subject"].value,
                WFSendEmailActionInputAttachments=PREV,
            ),
        ),
    ),
    intent(
        "messaging.running_late",
        "Running Late",
        slots={"who": V.PERSON, "mins": LATE},
        phrasings=[
            "I: Tell {who} I'm running {mins} minutes late",
            "Q: Can you let {who} know I'll be {mins} minutes late?",
            "C: ugh, late again, text {who} {mins} min",
            "T: late {mins} min -> {who}",
            "D: Texts {who} that you are running {mins} minutes late.",
        ],
        clauses=["tell {who} I'm {mins} minutes late", "let {who} know I'm running {mins} minutes behind"],
        build=lambda v: (
            act(
                "sendmessage",
                WFSendMessageActionRecipients=v["who"].value,
                WFSendMessageContent=f"Running {v['mins'].value} minutes late",
            ),
        ),
    ),
    intent(
        "messaging.share_location",
        "Share Location",
        slots={"who": V.PERSON},
        phrasings=[
            "I: Send {who} my current location",
            "Q: Could you text {who} where I am right now?",
            "C: let {who} know where I'm at",
            "T: my location -> {who}",
            "D: Gets your current address and messages it to {who}.",
        ],
        clauses=["send {who} my location", "text {who} where I am"],
        build=lambda v: (
            act("getcurrentlocation"),
            act(
                "sendmessage",
                WFSendMessageActionRecipients=v["who"].value,
                WFSendMessageContent=interp("I'm at ", PREV),
            ),
        ),
    ),
    intent(
        "messaging.email_clipboard",
        "Email Clipboard",
        slots={"to": V.email, "subject": V.SUBJECT},
        phrasings=[
            "I: Email my clipboard to {to} with subject {subject}",
            "Q: Can you mail what I copied to {to}, subject {subject}?",
            "C: send the clipboard to {to}, {subject}",
            "T: clipboard -> {to} {subject}",
            "D: Sends the clipboard contents to {to} by email with the subject {subject}.",
        ],
        clauses=[
            "email the clipboard to {to} as {subject}",
            "send my clipboard to {to} with the subject {subject}",
        ],
        build=lambda v: (
            act("getclipboard"),
            act(
                "sendemail",
                WFSendEmailActionToRecipients=v["to"].value,
                WFSendEmailActionSubject=v["subject"].value,
                WFSendEmailActionInputAttachments=PREV,
            ),
        ),
    ),
    intent(
        "messaging.send_photo",
        "Send Latest Photo",
        slots={"who": V.PERSON},
        phrasings=[
            "I: Send my latest photo to {who}",
            "Q: Can you message {who} the last picture I took?",
            "C: send {who} that pic I just took",
            "T: last photo -> {who}",
            "D: Gets the most recent photo and sends it to {who} in Messages.",
        ],
        clauses=["send {who} my latest photo", "message {who} the last picture"],
        build=lambda v: (
            act("getlastphoto"),
            act("sendmessage", WFSendMessageActionRecipients=v["who"].value, WFSendMessageContent=PREV),
        ),
    ),
    intent(
        "messaging.ask_and_text",
        "Quick Text",
        slots={"who": V.PERSON},
        phrasings=[
            "I: Ask me what to say and text it to {who}",
            "Q: Could you prompt me for a message and send it to {who}?",
            "C: lemme type something for {who} and send it",
            "T: ask message, text {who}",
            "D: Asks for a message, keeps it in a variable and sends it to {who}.",
        ],
        clauses=["ask me for a message and text it to {who}", "prompt me for a text to {who}"],
        build=lambda v: (
            act("ask", WFAskActionPrompt="What do you want to say?"),
            SetVariable("Message", PREV),
            act(
                "sendmessage",
                WFSendMessageActionRecipients=v["who"].value,
                WFSendMessageContent=interp(VarRef("Message")),
            ),
        ),
    ),
    intent(
        "messaging.call",
        "Call",
        slots={"who": V.PERSON},
        phrasings=[
            "I: Call {who}",
            "Q: Could you phone {who} for me?",
            "C: ring {who}",
            "T: dial {who}",
            "P: Please start a phone call with {who}.",
        ],
        clauses=["call {who}", "phone {who}"],
        build=lambda v: (act("com.apple.mobilephone.call", WFCallContact=v["who"].value),),
    ),
)
