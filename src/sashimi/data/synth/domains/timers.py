"""Timers and alarms: Clock timers, alarms, waits."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import act, intent

ALARM = "com.apple.mobiletimer-framework.MobileTimerIntents.MTCreateAlarmIntent"
TOGGLE_ALARM = "com.apple.mobiletimer-framework.MobileTimerIntents.MTToggleAlarmIntent"

TEMPLATES = (
    intent(
        "timers.start_timer",
        "Start Timer",
        slots={"duration": V.DURATION},
        phrasings=[
            "I: Start a timer for {duration}",
            "Q: Can you set a timer that runs {duration}?",
            "C: gimme a timer, {duration}",
            "T: timer {duration}",
            "D: Starts a countdown timer of {duration} in the Clock app.",
        ],
        clauses=["start a timer for {duration}", "set a timer for {duration}"],
        build=lambda v: (act("timer.start", WFDuration=v["duration"].value),),
    ),
    intent(
        "timers.create_alarm",
        "New Alarm",
        slots={"time": V.clock_time, "label": V.ALARM_LABEL},
        phrasings=[
            'I: Create an alarm at {time} called "{label}"',
            'Q: Could you set an alarm for {time} labelled "{label}"?',
            'C: wake me at {time}, label it "{label}"',
            'T: alarm {time} "{label}"',
            'D: Creates a new alarm for {time} with the label "{label}".',
        ],
        clauses=['set an alarm for {time} named "{label}"', 'create a "{label}" alarm at {time}'],
        build=lambda v: (act(ALARM, label=v["label"].value, dateComponents=v["time"].value),),
    ),
    intent(
        "timers.toggle_alarm",
        "Toggle Alarm",
        slots={"label": V.ALARM_LABEL, "state": V.on_off},
        phrasings=[
            'I: Turn {state} my "{label}" alarm',
            'Q: Can you switch the "{label}" alarm {state}?',
            'C: "{label}" alarm {state} pls',
            'T: alarm "{label}" {state}',
            'P: Please set my alarm named "{label}" to {state}.',
        ],
        clauses=['turn the "{label}" alarm {state}', 'switch my "{label}" alarm {state}'],
        build=lambda v: (act(TOGGLE_ALARM, alarm=v["label"].value, enabled=v["state"].value),),
    ),
    intent(
        "timers.wait_notify",
        "Delayed Notification",
        slots={"secs": V.integer(5, 120, step=5), "text": V.SPEAK},
        phrasings=[
            "I: Wait {secs} seconds and then notify me with {text}",
            "Q: Could you send me a notification saying {text} after {secs} seconds?",
            "C: in {secs} sec ping me {text}",
            "T: wait {secs}s, notify {text}",
            "D: Pauses for {secs} seconds, then shows a notification reading {text}.",
        ],
        clauses=[
            "wait {secs} seconds and notify me with {text}",
            "after {secs} seconds show the notification {text}",
        ],
        build=lambda v: (
            act("delay", WFDelayTime=v["secs"].value),
            act("notification", WFNotificationActionBody=v["text"].value),
        ),
    ),
    intent(
        "timers.focus_session",
        "Focus Session",
        slots={"duration": V.quantity((("min", "minutes", 15, 90, 5),))},
        phrasings=[
            "I: Start a focus session of {duration}: turn on Do Not Disturb and start a timer",
            "Q: Can you silence notifications and run a timer for {duration} so I can focus?",
            "C: focus time, {duration}, dnd on and timer going",
            "T: focus {duration}: dnd + timer",
            "D: Turns on Do Not Disturb and starts a timer for {duration} for a focused work block.",
        ],
        clauses=["start a focus session of {duration}", "turn on Do Not Disturb with a timer for {duration}"],
        build=lambda v: (
            act("dnd.set", Enabled=True),
            act("timer.start", WFDuration=v["duration"].value),
        ),
    ),
    intent(
        "timers.stopwatch",
        "Stopwatch",
        slots={},
        phrasings=[
            "I: Start the stopwatch",
            "Q: Could you start timing me with the stopwatch?",
            "C: stopwatch go!",
            "T: stopwatch start",
            "D: Starts the stopwatch in the Clock app.",
        ],
        clauses=["start the stopwatch", "begin timing with the stopwatch"],
        build=lambda v: (act("com.apple.mobiletimer.StartStopwatchIntent"),),
    ),
    intent(
        "timers.cancel_timer",
        "Cancel Timer",
        slots={},
        phrasings=[
            "I: Cancel the running timer",
            "Q: Can you stop the timer that's going?",
            "C: never mind the timer, kill it",
            "T: timer off",
            "P: Please cancel my current timer.",
        ],
        clauses=["cancel the timer", "stop the running timer"],
        build=lambda v: (act("com.apple.mobiletimer.CancelTimerIntent"),),
    ),
)
