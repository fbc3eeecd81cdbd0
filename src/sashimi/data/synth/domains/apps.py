"""Apps and scripting: open apps, run shortcuts, random numbers, calculations, SSH."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show
from sashimi.dsl.ast import DictLiteral, StringValue

HOSTS = V.pooled(
    ("192.168.1.10", "raspberrypi.local", "nas.local", "10.0.0.5", "homeserver.lan", "mac-mini.local")
)
USERS = V.pooled(("pi", "admin", "root", "ubuntu", "me"))
COMMANDS = V.pooled(
    (
        "sudo reboot",
        "uptime",
        "df -h",
        "docker ps",
        "git pull",
        "ls ~/Downloads",
        "sudo apt update",
        "systemctl restart nginx",
    ),
    quote=True,
)
TIP = V.integer(10, 25, step=1, fmt="{}%")


def _open_app(v):
    name, bundle = v["app"].value, v["app"].get("bundle")
    selected = DictLiteral((("BundleIdentifier", StringValue(bundle)), ("Name", StringValue(name))))
    return (act("openapp", WFAppIdentifier=bundle, WFSelectedApp=selected),)


TEMPLATES = (
    intent(
        "apps.open_app",
        "Open App",
        slots={"app": V.app},
        phrasings=[
            "I: Open {app}",
            "Q: Can you launch {app} for me?",
            "C: fire up {app}",
            "T: {app}",
            "D: Opens the {app} app.",
        ],
        clauses=["open {app}", "launch {app}"],
        build=_open_app,
    ),
    intent(
        "apps.run_shortcut",
        "Run Shortcut",
        slots={"name": V.SHORTCUT},
        phrasings=[
            'I: Run my "{name}" shortcut',
            'Q: Could you start the shortcut called "{name}"?',
            'C: kick off "{name}"',
            'T: run "{name}"',
            'D: Runs the shortcut "{name}".',
        ],
        clauses=['run the "{name}" shortcut', 'start "{name}"'],
        build=lambda v: (act("runworkflow", WFWorkflowName=v["name"].value, WFShowWorkflow=False),),
    ),
    intent(
        "apps.random_number",
        "Random Number",
        slots={"lo": V.integer(0, 10), "hi": V.integer(12, 1000)},
        phrasings=[
            "I: Pick a random number between {lo} and {hi}",
            "Q: Can you give me a random number from {lo} to {hi}?",
            "C: random number {lo}-{hi} go",
            "T: rand {lo}..{hi}",
            "D: Generates a random number between {lo} and {hi} and shows it.",
        ],
        clauses=["pick a random number from {lo} to {hi}", "give me a random number between {lo} and {hi}"],
        build=lambda v: (
            act("number.random", WFRandomNumberMinimum=v["lo"].value, WFRandomNumberMaximum=v["hi"].value),
            show(PREV),
        ),
    ),
    intent(
        "apps.ssh",
        "Run SSH Command",
        slots={"host": HOSTS, "user": USERS, "cmd": COMMANDS},
        phrasings=[
            "I: Run {cmd} on {host} over SSH as {user}",
            "Q: Can you SSH into {host} as {user} and execute {cmd}?",
            "C: ssh {user}@{host} and do {cmd}",
            "T: ssh {user}@{host} {cmd}",
            "D: Connects to {host} as {user} over SSH and runs {cmd}.",
        ],
        clauses=["run {cmd} on {host} as {user}", "ssh into {host} as {user} and run {cmd}"],
        build=lambda v: (
            act(
                "runsshscript",
                WFSSHHost=v["host"].value,
                WFSSHUser=v["user"].value,
                WFSSHScript=v["cmd"].value,
            ),
        ),
    ),
    intent(
        "apps.tip",
        "Tip Calculator",
        slots={"pct": TIP},
        phrasings=[
            "I: Ask me for the bill amount and calculate a {pct} tip",
            "Q: Can you work out a {pct} tip on a bill I enter?",
            "C: tip calc, {pct}, ask me the total",
            "T: tip {pct} of entered bill",
            "D: Asks for the bill total, multiplies it by {pct} and shows the tip.",
        ],
        clauses=["calculate a {pct} tip on a bill I enter", "work out a {pct} tip"],
        build=lambda v: (
            act("ask", WFInputType="Number", WFAskActionPrompt="Bill amount?"),
            act("math", WFInput=PREV, WFMathOperation="×", WFMathOperand=round(v["pct"].value / 100, 2)),
            show("Tip: ", PREV),
        ),
    ),
    intent(
        "apps.calculate",
        "Calculator",
        slots={
            "expr": V.pooled(
                ("12*7+3", "(45+55)/4", "2^10", "19.99*3", "1500/12", "365*24", "3.5*4.2", "100-37.5")
            )
        },
        phrasings=[
            "I: Calculate {expr}",
            "Q: What is {expr}?",
            "C: quick maths: {expr}",
            "T: = {expr}",
            "D: Evaluates the expression {expr} and shows the result.",
        ],
        clauses=["calculate {expr}", "work out {expr}"],
        build=lambda v: (act("calculateexpression", Input=v["expr"].value), show(PREV)),
    ),
    intent(
        "apps.hash_text",
        "Hash Text",
        slots={
            "text": V.MESSAGE,
            "algo": V.choice((("MD5", "MD5"), ("SHA1", "SHA1"), ("SHA256", "SHA256"), ("SHA512", "SHA512"))),
        },
        phrasings=[
            "I: Copy the {algo} hash of {text}",
            "Q: Can you hash {text} with {algo} and put it on the clipboard?",
            "C: {algo} of {text}, copy it",
            "T: {algo}({text}) -> clipboard",
            "D: Computes the {algo} hash of {text} and copies it.",
        ],
        clauses=["copy the {algo} hash of {text}", "hash {text} with {algo}"],
        build=lambda v: (
            act("gettext", WFTextActionText=v["text"].value),
            act("hash", WFInput=PREV, WFHashType=v["algo"].value),
            act("setclipboard"),
        ),
    ),
)
