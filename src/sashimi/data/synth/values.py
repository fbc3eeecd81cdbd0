"""Seeded value samplers: the literals a user says in a request and the program copies.

Every sampler takes a `random.Random` and returns a `Val`: `text` is how the value appears in the
prompt, `value` is what goes into the program (a Python scalar or an IR value). Keeping the two side
by side is what makes copying learnable and measurable: numbers, names, quoted text, URLs and times
appear verbatim in the prompt wherever a user would say them.

Pools are deliberately wide (hundreds of combinations per slot) so that a model cannot memorise
values per template; all randomness flows through the generator's seeded `Random`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sashimi.dsl.ast import QuantityLiteral


@dataclass(frozen=True)
class Val:
    """One sampled slot value: `text` as said in the prompt, `value` as written in the program."""

    text: str
    value: Any
    extra: tuple[tuple[str, Any], ...] = ()  # derived facts a template may need (e.g. a bundle id)

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


Sampler = Callable[[random.Random], Val]


def _pick(rng: random.Random, pool: tuple[str, ...]) -> str:
    return pool[rng.randrange(len(pool))]


# ----------------------------------------------------------------------------- pools

FIRST_NAMES = (
    "Alice",
    "Ben",
    "Carla",
    "Dmitri",
    "Elena",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Chloe",
    "Diego",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Kira",
    "Leo",
    "Mila",
    "Noah",
    "Olivia",
    "Pablo",
    "Ruby",
    "Sofia",
    "Theo",
    "Valentina",
    "Will",
    "Yara",
    "Zane",
    "Amir",
    "Beatriz",
    "Chen",
    "Dara",
    "Eli",
)
FAMILY = ("Mom", "Dad", "Grandma", "Grandpa", "Auntie Jo", "Uncle Raj")
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Okafor",
    "Rossi",
    "Tanaka",
    "Novak",
    "Silva",
    "Müller",
    "Larsen",
    "Haddad",
    "Patel",
    "Kim",
    "Moreau",
    "Byrne",
    "Costa",
    "Ivanova",
)
CITIES = (
    "Paris",
    "Tokyo",
    "Berlin",
    "Lisbon",
    "Toronto",
    "Nairobi",
    "Seoul",
    "Austin",
    "Denver",
    "Oslo",
    "Madrid",
    "Dublin",
    "Chicago",
    "Sydney",
    "Vienna",
    "Prague",
    "Boston",
    "Seattle",
    "Montreal",
    "Kyoto",
    "Amsterdam",
    "Barcelona",
    "Lima",
    "Cape Town",
    "Helsinki",
    "Porto",
    "Zurich",
    "Melbourne",
    "Vancouver",
    "Edinburgh",
    "Marseille",
    "Bologna",
    "Osaka",
    "Athens",
)
PLACES = (
    "the airport",
    "the office",
    "the train station",
    "the gym",
    "the nearest pharmacy",
    "the library",
    "the hospital",
    "the beach",
    "the stadium",
    "home",
    "the school",
    "the farmers market",
    "the post office",
    "the closest coffee shop",
    "the museum",
)
STREETS = (
    "Main Street",
    "Oak Avenue",
    "Elm Road",
    "Market Street",
    "Baker Street",
    "King Street",
    "Sunset Boulevard",
    "Park Lane",
    "River Road",
    "Hill Street",
    "Maple Drive",
    "Church Lane",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EVENT_TITLES = (
    "Dentist",
    "Team standup",
    "Lunch with {name}",
    "Yoga class",
    "Parent-teacher meeting",
    "Haircut",
    "Call with {name}",
    "Book club",
    "Flight to {city}",
    "Car service",
    "Piano lesson",
    "Project review",
    "Dinner with {name}",
    "Vet appointment",
    "Sprint planning",
    "Date night",
    "Soccer practice",
    "Tax appointment",
    "Coffee with {name}",
    "Birthday party for {name}",
)
REMINDER_TITLES = (
    "Buy milk",
    "Pay the electricity bill",
    "Water the plants",
    "Call {name}",
    "Renew passport",
    "Take out the trash",
    "Pick up dry cleaning",
    "Book flights to {city}",
    "Send the invoice",
    "Return library books",
    "Order new contacts",
    "Feed the cat",
    "Back up the laptop",
    "Refill prescription",
    "Email {name} the slides",
    "Charge the car",
    "Buy a gift for {name}",
    "Cancel the gym trial",
    "Check tire pressure",
    "Submit the expense report",
)
REMINDER_LISTS = ("Groceries", "Work", "Home", "Errands", "Personal", "Shopping", "Family", "Chores")
NOTE_TEXTS = (
    "Ideas for the weekend trip",
    "Gift ideas: scarf, headphones, a good novel",
    "Remember to ask about the parking permit",
    "Recipe: two eggs, a cup of flour, pinch of salt",
    "Meeting notes: ship the beta on Friday",
    "Books to read: Dune, Piranesi, Circe",
    "Wifi password for the cabin is on the fridge",
    "Quote: simplicity is the soul of efficiency",
    "Packing list: charger, passport, sunscreen",
    "Questions for the landlord about the heating",
    "Podcast episode about sleep was great",
    "Try the new ramen place on {street}",
    "Garden: plant tomatoes after the last frost",
    "Workout plan: squats, rows, planks",
    "Birthday ideas for {name}",
    "Things to fix: squeaky door, leaking tap",
)
NOTE_TITLES = (
    "Journal",
    "Ideas",
    "Groceries",
    "Work log",
    "Reading list",
    "Daily notes",
    "Inbox",
    "Travel",
    "Recipes",
    "Meeting notes",
    "Gratitude",
    "Shopping",
)
MESSAGES = (
    "Running 10 minutes late",
    "On my way!",
    "Can you call me when you're free?",
    "Dinner is ready",
    "Just landed, see you soon",
    "Don't forget the tickets",
    "Happy birthday! Hope you have a great day",
    "I'm outside",
    "Leaving work now",
    "Can we move our meeting to tomorrow?",
    "Thanks for today!",
    "Grab some bread on the way home",
    "The package arrived",
    "Good luck with the exam!",
    "Call you back in five",
    "Meet me at the usual place",
    "Heading to the gym",
    "Miss you, talk tonight",
)
EMAIL_SUBJECTS = (
    "Weekly report",
    "Invoice for March",
    "Meeting notes",
    "Quick question",
    "Vacation request",
    "Project update",
    "Photos from the weekend",
    "Receipt",
    "Draft for review",
    "Lunch on Friday?",
    "Schedule change",
    "Welcome aboard",
)
EMAIL_DOMAINS = ("example.com", "mail.com", "work.org", "studio.io", "acme.co", "school.edu")
WORDS = (
    "urgent",
    "invoice",
    "meeting",
    "todo",
    "draft",
    "http",
    "password",
    "flight",
    "recipe",
    "deadline",
    "order",
    "tracking",
    "receipt",
    "zoom",
    "address",
    "birthday",
)
SEARCH_QUERIES = (
    "best hiking trails near {city}",
    "how to descale a kettle",
    "sourdough starter ratio",
    "weather radar",
    "train times to {city}",
    "vegan lasagna recipe",
    "how tall is Mount Fuji",
    "cheap flights to {city}",
    "python list comprehension",
    "symptoms of dehydration",
    "movie showtimes tonight",
    "how to fix a flat tire",
    "museums in {city}",
    "jazz bars in {city}",
    "what time is sunset",
    "history of the bicycle",
)
SPEAK_TEXTS = (
    "Time to stretch",
    "Good morning, you have a busy day",
    "Drink some water",
    "The laundry is done",
    "Take a deep breath",
    "Remember to stand up",
    "Dinner in five minutes",
    "Meeting starts soon",
    "You did great today",
    "Lights out in ten minutes",
)
SITES = (
    ("https://news.ycombinator.com", "Hacker News"),
    ("https://www.bbc.com/news", "BBC News"),
    ("https://github.com", "GitHub"),
    ("https://en.wikipedia.org", "Wikipedia"),
    ("https://www.reddit.com", "Reddit"),
    ("https://calendar.google.com", "Google Calendar"),
    ("https://www.nytimes.com", "The New York Times"),
    ("https://mail.google.com", "Gmail"),
    ("https://www.youtube.com", "YouTube"),
    ("https://www.theverge.com", "The Verge"),
    ("https://www.apple.com/newsroom", "Apple Newsroom"),
    ("https://weather.com", "Weather.com"),
)
API_HOSTS = (
    "api.example.com",
    "api.weather.dev",
    "status.myhome.net",
    "api.todo.io",
    "hooks.acme.co",
    "api.quotes.dev",
    "data.city.gov",
    "api.crypto.dev",
    "api.stocks.io",
)
API_PATHS = (
    "v1/status",
    "v2/forecast",
    "latest",
    "items",
    "v1/quote",
    "prices",
    "v1/today",
    "stats",
    "v1/metrics",
    "now",
)
JSON_KEYS = (
    "temperature",
    "status",
    "price",
    "quote",
    "count",
    "title",
    "summary",
    "value",
    "humidity",
    "author",
    "total",
    "message",
)
APPS = (
    ("Safari", "com.apple.mobilesafari"),
    ("Mail", "com.apple.mobilemail"),
    ("Music", "com.apple.Music"),
    ("Notes", "com.apple.mobilenotes"),
    ("Calendar", "com.apple.mobilecal"),
    ("Photos", "com.apple.mobileslideshow"),
    ("Maps", "com.apple.Maps"),
    ("Messages", "com.apple.MobileSMS"),
    ("Settings", "com.apple.Preferences"),
    ("Camera", "com.apple.camera"),
    ("Podcasts", "com.apple.podcasts"),
    ("Reminders", "com.apple.reminders"),
    ("Weather", "com.apple.weather"),
    ("Files", "com.apple.DocumentsApp"),
    ("Slack", "com.tinyspeck.chatlyio"),
    ("Spotify", "com.spotify.client"),
    ("WhatsApp", "net.whatsapp.WhatsApp"),
    ("Instagram", "com.burbn.instagram"),
    ("YouTube", "com.google.ios.youtube"),
    ("Things", "com.culturedcode.ThingsiPhone"),
    ("Overcast", "fm.overcast.overcast"),
    ("Duolingo", "com.duolingo.DuolingoMobile"),
)
PLAYLISTS = (
    "Chill",
    "Focus",
    "Workout Mix",
    "Road Trip",
    "Sunday Morning",
    "Deep Work",
    "Jazz Classics",
    "Running",
    "Dinner Party",
    "Sleep Sounds",
    "Throwbacks",
    "Indie Favorites",
    "Lo-fi Beats",
)
SPEAKERS = (
    "Kitchen HomePod",
    "Living Room",
    "Bedroom Speaker",
    "AirPods",
    "Office HomePod",
    "Apple TV",
    "Car",
)
SHORTCUT_NAMES = (
    "Morning Routine",
    "Log Mood",
    "Commute Home",
    "Bedtime",
    "Daily Summary",
    "Backup Photos",
    "Plan My Day",
    "Focus Mode",
    "Expense Tracker",
    "Read Later",
)
FOLDERS = (
    "Projects",
    "Invoices",
    "Receipts",
    "Screenshots",
    "Scans",
    "Travel",
    "School",
    "Archive",
    "Taxes",
    "Recipes",
    "Work/Reports",
    "Photos/Exports",
)
FILE_STEMS = (
    "notes",
    "report",
    "todo",
    "budget",
    "journal",
    "summary",
    "ideas",
    "draft",
    "minutes",
    "log",
    "packing-list",
    "reading",
)
SSIDS = ("Home", "HomeNet 5G", "Office-WiFi", "CoffeeShop", "Studio", "Guest", "Parents", "Library Free WiFi")
LANGUAGES = ("French", "Spanish", "German", "Japanese", "Italian", "Portuguese", "Korean", "Dutch")
WORKOUTS = (
    "Running",
    "Walking",
    "Cycling",
    "Swimming",
    "Yoga",
    "Hiking",
    "Rowing",
    "Dance",
    "Elliptical",
    "Functional Strength Training",
)
LIST_ITEMS = (
    "milk",
    "eggs",
    "bread",
    "coffee",
    "apples",
    "rice",
    "cheese",
    "pasta",
    "tomatoes",
    "butter",
    "laundry",
    "dishes",
    "vacuum",
    "groceries",
    "email Sam",
    "pay rent",
    "water plants",
    "gym",
    "read",
    "stretch",
    "call the bank",
    "book tickets",
    "clean the fridge",
    "walk the dog",
)
MENU_PROMPTS = (
    "What do you want to do?",
    "Pick one",
    "Which action?",
    "Choose an option",
    "What now?",
    "Select a mode",
    "Morning options",
    "Quick actions",
)


# ----------------------------------------------------------------------------- samplers


def fill(rng: random.Random, template: str) -> str:
    """Fill `{name}` / `{city}` / `{street}` sub-slots of pooled strings."""
    return template.format(name=_pick(rng, FIRST_NAMES), city=_pick(rng, CITIES), street=_pick(rng, STREETS))


def pooled(pool: tuple[str, ...], *, quote: bool = False) -> Sampler:
    """A string from `pool` (sub-slots filled); `quote` shows it in double quotes in the prompt."""

    def sample(rng: random.Random) -> Val:
        s = fill(rng, _pick(rng, pool))
        return Val(f'"{s}"' if quote else s, s)

    return sample


def integer(lo: int, hi: int, *, step: int = 1, fmt: str = "{}") -> Sampler:
    """An int in [lo, hi] on a `step` grid; `fmt` renders it in the prompt (e.g. "{} mg")."""

    def sample(rng: random.Random) -> Val:
        n = lo + step * rng.randrange((hi - lo) // step + 1)
        return Val(fmt.format(n), n)

    return sample


def decimal(lo: float, hi: float, *, places: int = 1, fmt: str = "{}") -> Sampler:
    def sample(rng: random.Random) -> Val:
        x = round(rng.uniform(lo, hi), places)
        if x == int(x):
            x = int(x)  # printed as an int in the prompt and in the program alike
        return Val(fmt.format(x), x)

    return sample


def quantity(units: tuple[tuple[str, str, int, int, int], ...]) -> Sampler:
    """A `QTY(n, unit)`; `units` rows are (DSL unit, prompt word, lo, hi, step)."""

    def sample(rng: random.Random) -> Val:
        unit, word, lo, hi, step = units[rng.randrange(len(units))]
        n = lo + step * rng.randrange((hi - lo) // step + 1)
        word = word if n != 1 else word.rstrip("s") if word.endswith("s") else word
        return Val(f"{n} {word}", QuantityLiteral(n, unit), (("n", n), ("unit", unit)))

    return sample


DURATION = quantity((("min", "minutes", 1, 90, 1), ("sec", "seconds", 10, 90, 5), ("hr", "hours", 1, 4, 1)))
SHORT_MINUTES = quantity((("min", "minutes", 2, 60, 1),))


def percent(lo: int, hi: int, step: int = 5) -> Sampler:
    """A percentage said as "40%" and written as the fraction 0.4 (Apple's 0–1 sliders)."""

    def sample(rng: random.Random) -> Val:
        n = lo + step * rng.randrange((hi - lo) // step + 1)
        return Val(f"{n}%", round(n / 100, 2), (("n", n),))

    return sample


def clock_time(rng: random.Random) -> Val:
    hour = rng.randrange(5, 23)
    minute = rng.choice((0, 0, 15, 30, 45, 10, 20, 50))
    if rng.random() < 0.5:
        text = f"{hour:02d}:{minute:02d}"
    else:
        h12 = hour % 12 or 12
        text = f"{h12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"
        if minute == 0 and rng.random() < 0.5:
            text = f"{h12} {'AM' if hour < 12 else 'PM'}"
    return Val(text, text, (("hour", hour), ("minute", minute)))


def day_phrase(rng: random.Random) -> Val:
    """A natural-language date the Shortcuts date fields parse ("tomorrow at 3 PM")."""
    t = clock_time(rng).text
    day = rng.choice(
        (
            "today",
            "tomorrow",
            "next " + _pick(rng, WEEKDAYS),
            _pick(rng, WEEKDAYS),
            f"{_pick(rng, MONTHS)} {rng.randrange(1, 29)}",
        )
    )
    text = f"{day} at {t}"
    return Val(text, text)


def calendar_date(rng: random.Random) -> Val:
    month = _pick(rng, MONTHS)
    day = rng.randrange(1, 29)
    year = rng.choice((2026, 2027, 2028))
    text = f"{month} {day}, {year}"
    return Val(text, text)


def person(rng: random.Random) -> Val:
    r = rng.random()
    if r < 0.25:
        s = _pick(rng, FAMILY)
        return Val(s, s)
    if r < 0.55:
        s = f"{_pick(rng, FIRST_NAMES)} {_pick(rng, LAST_NAMES)}"
        return Val(s, s)
    s = _pick(rng, FIRST_NAMES)
    return Val(s, s)


def phone_number(rng: random.Random) -> Val:
    s = f"+1 {rng.randrange(200, 999)} {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}"
    return Val(s, s)


def email(rng: random.Random) -> Val:
    s = f"{_pick(rng, FIRST_NAMES).lower()}.{_pick(rng, LAST_NAMES).lower()}@{_pick(rng, EMAIL_DOMAINS)}"
    s = s.replace("ü", "u")
    return Val(s, s)


def site(rng: random.Random) -> Val:
    url, title = SITES[rng.randrange(len(SITES))]
    return Val(url, url, (("title", title),))


def api_url(rng: random.Random) -> Val:
    s = f"https://{_pick(rng, API_HOSTS)}/{_pick(rng, API_PATHS)}"
    return Val(s, s)


def short_link(rng: random.Random) -> Val:
    host = rng.choice(("bit.ly", "t.co", "tinyurl.com", "buff.ly", "goo.gl"))
    code = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7))
    s = f"https://{host}/{code}"
    return Val(s, s)


def file_url(rng: random.Random) -> Val:
    ext = rng.choice(("pdf", "zip", "csv", "png", "mp3", "txt"))
    s = f"https://files.{_pick(rng, EMAIL_DOMAINS)}/{_pick(rng, FILE_STEMS)}-{rng.randrange(1, 99)}.{ext}"
    return Val(s, s)


def app(rng: random.Random) -> Val:
    name, bundle = APPS[rng.randrange(len(APPS))]
    return Val(name, name, (("bundle", bundle),))


def file_name(rng: random.Random) -> Val:
    ext = rng.choice(("txt", "md", "csv", "txt"))
    s = f"{_pick(rng, FILE_STEMS)}-{rng.randrange(1, 31):02d}.{ext}"
    return Val(s, s)


def folder(rng: random.Random) -> Val:
    s = _pick(rng, FOLDERS)
    if rng.random() < 0.4:
        s = f"{s}/{rng.choice((2025, 2026, 2027))}"
    return Val(s, s)


def list_items(rng: random.Random) -> Val:
    """2–4 distinct items said as "milk, eggs and bread"; the value is the tuple of items."""
    k = rng.randrange(2, 5)
    items = rng.sample(LIST_ITEMS, k)
    text = ", ".join(items[:-1]) + " and " + items[-1]
    return Val(text, tuple(items))


PERSON = person
CITY = pooled(CITIES)
PLACE = pooled(PLACES)
EVENT = pooled(EVENT_TITLES)
REMINDER = pooled(REMINDER_TITLES)
REMINDER_LIST = pooled(REMINDER_LISTS)
NOTE_TEXT = pooled(NOTE_TEXTS, quote=True)
NOTE_TITLE = pooled(NOTE_TITLES)
MESSAGE = pooled(MESSAGES, quote=True)
SUBJECT = pooled(EMAIL_SUBJECTS, quote=True)
WORD = pooled(WORDS, quote=True)
QUERY = pooled(SEARCH_QUERIES)
SPEAK = pooled(SPEAK_TEXTS, quote=True)
PLAYLIST = pooled(PLAYLISTS)
SPEAKER = pooled(SPEAKERS)
SHORTCUT = pooled(SHORTCUT_NAMES)
SSID = pooled(SSIDS)
LANGUAGE = pooled(LANGUAGES)
WORKOUT = pooled(WORKOUTS)
JSON_KEY = pooled(JSON_KEYS)
MENU_PROMPT = pooled(MENU_PROMPTS)
WEEKDAY = pooled(WEEKDAYS)


def on_off(rng: random.Random) -> Val:
    on = rng.random() < 0.5
    return Val("on" if on else "off", on)


ALARM_LABEL = pooled(
    (
        "Wake up",
        "Gym",
        "Take medication",
        "Leave for work",
        "Pick up the kids",
        "Standup",
        "Bedtime",
        "Water the garden",
        "Morning run",
        "Call Mom",
    )
)
CASE_TYPE = (
    ("uppercase", "UPPERCASE"),
    ("lowercase", "lowercase"),
    ("title case", "Capitalize with Title Case"),
    ("sentence case", "Capitalize with sentence case"),
)


def choice(rows: tuple[tuple[str, object], ...]) -> Sampler:
    """One of a fixed set of (prompt text, program value) pairs, e.g. an enum said in words."""

    def sample(rng: random.Random) -> Val:
        text, value = rows[rng.randrange(len(rows))]
        return Val(text, value)

    return sample
