"""Calendar and reminders: events, reminders, upcoming items."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import DATE, PREV, act, intent, show
from sashimi.dsl.ast import SetVariable as SetVar
from sashimi.dsl.ast import VarRef

TEMPLATES = (
    intent(
        "calendar.add_event",
        "Add Event",
        slots={"title": V.EVENT, "when": V.day_phrase},
        phrasings=[
            'I: Add "{title}" to my calendar {when}',
            'Q: Can you put an event called "{title}" on my calendar for {when}?',
            'C: stick "{title}" in the calendar {when}',
            'T: event "{title}" {when}',
            'D: Creates a calendar event titled "{title}" starting {when}.',
        ],
        clauses=['add "{title}" to my calendar {when}', 'create an event "{title}" {when}'],
        build=lambda v: (
            act("addnewevent", WFCalendarItemTitle=v["title"].value, WFCalendarItemStartDate=v["when"].value),
        ),
    ),
    intent(
        "calendar.add_reminder",
        "Add Reminder",
        slots={"title": V.REMINDER},
        phrasings=[
            'I: Remind me to "{title}"',
            'Q: Could you add "{title}" to my reminders?',
            'C: don\'t let me forget: "{title}"',
            'T: reminder "{title}"',
            'P: Please create a reminder that says "{title}".',
        ],
        clauses=['add a reminder "{title}"', 'create the reminder "{title}"'],
        build=lambda v: (act("addnewreminder", WFCalendarItemTitle=v["title"].value),),
    ),
    intent(
        "calendar.add_to_list",
        "Add to List",
        slots={"title": V.REMINDER, "list": V.REMINDER_LIST},
        phrasings=[
            'I: Add "{title}" to my {list} list in Reminders',
            'Q: Can you put "{title}" on the {list} list?',
            'C: "{title}" goes on the {list} list',
            'T: {list} list: "{title}"',
            'D: Adds a reminder "{title}" to the {list} list.',
        ],
        clauses=['add "{title}" to my {list} list', 'put "{title}" on the {list} list'],
        build=lambda v: (
            act(
                "addnewreminder", WFCalendarItemTitle=v["title"].value, WFCalendarItemCalendar=v["list"].value
            ),
        ),
    ),
    intent(
        "calendar.timed_reminder",
        "Timed Reminder",
        slots={"title": V.REMINDER, "when": V.day_phrase},
        phrasings=[
            'I: Remind me {when} to "{title}"',
            'Q: Would you set a reminder "{title}" with an alert {when}?',
            'C: ping me {when} about "{title}"',
            'T: "{title}" – alert {when}',
            'P: Please add the reminder "{title}" and alert me {when}.',
        ],
        clauses=['remind me {when} to "{title}"', 'set a reminder "{title}" for {when}'],
        build=lambda v: (
            act(
                "addnewreminder",
                WFCalendarItemTitle=v["title"].value,
                WFAlertEnabled="Alert",
                WFAlertCustomTime=v["when"].value,
            ),
        ),
    ),
    intent(
        "calendar.upcoming_events",
        "Upcoming Events",
        slots={"count": V.integer(1, 10)},
        phrasings=[
            "I: Show me my next {count} calendar events",
            "Q: What are my next {count} events?",
            "C: what's coming up? next {count} events pls",
            "T: next {count} events",
            "D: Gets the next {count} upcoming events from Calendar and shows them.",
        ],
        clauses=["show my next {count} events", "list the next {count} calendar events"],
        build=lambda v: (act("getupcomingevents", WFGetUpcomingItemCount=v["count"].value), show(PREV)),
    ),
    intent(
        "calendar.todays_agenda",
        "Today's Agenda",
        slots={},
        phrasings=[
            "I: Read out today's calendar events",
            "Q: Can you tell me what's on my calendar today?",
            "C: what do I have on today? say it out loud",
            "T: speak today's agenda",
            "D: Gets today's events and speaks them aloud.",
        ],
        clauses=["read out today's events", "speak my agenda for today"],
        build=lambda v: (
            act("getupcomingevents", WFDateSpecifier="Today"),
            act("speaktext", WFText=PREV),
        ),
    ),
    intent(
        "calendar.event_from_input",
        "Quick Event",
        slots={"duration": V.quantity((("hr", "hours", 1, 3, 1), ("min", "minutes", 15, 45, 15)))},
        phrasings=[
            "I: Ask me for an event name and add it to my calendar {duration} from now",
            "Q: Could you prompt me for a title and schedule an event {duration} from now?",
            "C: ask what the event is and put it in the calendar in {duration}",
            "T: ask title, event in {duration}",
            "D: Asks for an event title, stores it in a variable and adds it to Calendar {duration} from now.",
        ],
        clauses=[
            "ask me for an event and schedule it {duration} from now",
            "prompt me for an event title and add it {duration} from now",
        ],
        build=lambda v: (
            act("ask", WFAskActionPrompt="What's the event?"),
            SetVar("Title", PREV),
            act("adjustdate", WFDate=DATE, WFAdjustOperation="Add", WFDuration=v["duration"].value),
            act("addnewevent", WFCalendarItemTitle=VarRef("Title"), WFCalendarItemStartDate=PREV),
        ),
    ),
    intent(
        "calendar.upcoming_reminders",
        "Upcoming Reminders",
        slots={"count": V.integer(1, 15)},
        phrasings=[
            "I: Show my next {count} reminders",
            "Q: Which {count} reminders are due next?",
            "C: what's on my todo list, next {count}",
            "T: next {count} reminders",
            "D: Gets the {count} upcoming reminders and lists them.",
        ],
        clauses=["show my next {count} reminders", "list the {count} upcoming reminders"],
        build=lambda v: (act("getupcomingreminders", WFGetUpcomingItemCount=v["count"].value), show(PREV)),
    ),
)
