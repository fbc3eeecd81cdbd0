"""Dates: countdowns, date arithmetic and formatting."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import DATE, PREV, act, intent, show

DATE_FORMATS = V.choice(
    (
        ("yyyy-MM-dd", "yyyy-MM-dd"),
        ("dd/MM/yyyy", "dd/MM/yyyy"),
        ("MM-dd-yy", "MM-dd-yy"),
        ("d MMMM yyyy", "d MMMM yyyy"),
        ("EEEE, MMM d", "EEEE, MMM d"),
    )
)
OFFSET = V.quantity((("days", "days", 2, 90, 1), ("weeks", "weeks", 1, 12, 1), ("months", "months", 1, 6, 1)))

TEMPLATES = (
    intent(
        "dates.days_until",
        "Countdown",
        slots={"date": V.calendar_date},
        phrasings=[
            "I: Tell me how many days are left until {date}",
            "Q: How many days until {date}?",
            "C: countdown to {date}, how long?",
            "T: days until {date}",
            "D: Calculates the number of days between today and {date} and shows it.",
        ],
        clauses=["count the days until {date}", "show how many days are left until {date}"],
        build=lambda v: (
            act("date", WFDateActionMode="Specified Date", WFDateActionDate=v["date"].value),
            act("gettimebetweendates", WFInput=PREV, WFTimeUntilFromDate=DATE, WFTimeUntilUnit="Days"),
            show(PREV, " days to go"),
        ),
    ),
    intent(
        "dates.copy_today",
        "Copy Date",
        slots={"fmt": DATE_FORMATS},
        phrasings=[
            "I: Copy today's date formatted as {fmt}",
            "Q: Can you put the current date in {fmt} format on my clipboard?",
            "C: need today's date as {fmt} in the clipboard",
            "T: date {fmt} -> clipboard",
            "D: Formats the current date with the pattern {fmt} and copies it to the clipboard.",
        ],
        clauses=["copy today's date as {fmt}", "put the date in {fmt} format on the clipboard"],
        build=lambda v: (
            act("format.date", WFDate=DATE, WFDateFormatStyle="Custom", WFDateFormat=v["fmt"].value),
            act("setclipboard"),
        ),
    ),
    intent(
        "dates.add_offset",
        "Date Calculator",
        slots={"offset": OFFSET},
        phrasings=[
            "I: Show me the date {offset} from today",
            "Q: What date is it in {offset}?",
            "C: what's the date {offset} from now",
            "T: today + {offset}",
            "D: Adds {offset} to the current date and shows the result in long format.",
        ],
        clauses=["show the date {offset} from today", "work out the date in {offset}"],
        build=lambda v: (
            act("adjustdate", WFDate=DATE, WFAdjustOperation="Add", WFDuration=v["offset"].value),
            act("format.date", WFDate=PREV, WFDateFormatStyle="Long", WFTimeFormatStyle="None"),
            show(PREV),
        ),
    ),
    intent(
        "dates.weekday_of",
        "Day of the Week",
        slots={"date": V.calendar_date},
        phrasings=[
            "I: Tell me which weekday {date} falls on",
            "Q: What day of the week is {date}?",
            "C: {date} is a what day?",
            "T: weekday of {date}",
            "D: Shows the day of the week for the date {date}.",
        ],
        clauses=["tell me the weekday of {date}", "show what day {date} is"],
        build=lambda v: (
            act("date", WFDateActionMode="Specified Date", WFDateActionDate=v["date"].value),
            act("format.date", WFDate=PREV, WFDateFormatStyle="Custom", WFDateFormat="EEEE"),
            show(PREV),
        ),
    ),
)
