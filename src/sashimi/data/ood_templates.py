"""Out-of-domain prompt templates, written by us for the domain gate (plan Phase 0.4, architecture.md §5).

Each category holds many distinct templates (so the gate can be evaluated on templates it never saw)
and each template has `{slot}` placeholders filled from the category's slot lists. Everything here
asks for something Apple Shortcuts cannot do: answers, proofs, prose, code for other platforms, or
information about iOS. Requests Shortcuts can perform (weather, timers, unit conversion, translation,
web search, tip calculation, ...) are deliberately absent — they are in-domain, not OOD.

`mode` tells the shared filler layer (sashimi.data.ood) how a prompt may be wrapped: an
"imperative" prompt starts with a verb and can become "Can you <verb> ...?"; a "question" only gets
sentence-level wrappers. Templates avoid the filler phrases themselves ("please", "I need to", "just",
...) so that every occurrence of a filler comes from the shared, class-balanced layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Template:
    template_id: str  # unique within its category
    mode: str  # "imperative" | "question"
    text: str  # with {slot} placeholders


def _t(tid: str, mode: str, text: str) -> Template:
    return Template(tid, mode, text)


IMP, QUE = "imperative", "question"

# ------------------------------------------------------------------------ slot fillers

_COUNTRIES = (
    "France",
    "Japan",
    "Brazil",
    "Kenya",
    "Canada",
    "Australia",
    "Norway",
    "Argentina",
    "Egypt",
    "India",
    "Vietnam",
    "Peru",
)
_EVENTS = (
    "the fall of the Roman Empire",
    "the French Revolution",
    "the Cold War",
    "the Industrial Revolution",
    "the Renaissance",
    "the Meiji Restoration",
    "the Silk Road trade",
    "the invention of the printing press",
    "the Black Death",
    "the moon landing",
)
_PEOPLE = (
    "Marie Curie",
    "Napoleon",
    "Ada Lovelace",
    "Nelson Mandela",
    "Leonardo da Vinci",
    "Cleopatra",
    "Galileo",
    "Frida Kahlo",
    "Genghis Khan",
    "Alan Turing",
)
_LANDMARKS = (
    "the Great Wall of China",
    "Machu Picchu",
    "the Eiffel Tower",
    "Stonehenge",
    "the Taj Mahal",
    "Angkor Wat",
    "the Colosseum",
    "Petra",
)
_FUNCTIONS = (
    "x^2 sin(x)",
    "e^(2x) cos(x)",
    "ln(x)/x",
    "1/(1+x^2)",
    "x e^x",
    "sqrt(1-x^2)",
    "tan(x)",
    "x^3 ln(x)",
)
_CLAIMS_MATH = (
    "there are infinitely many primes",
    "the square root of 2 is irrational",
    "the sum of the first n odd numbers is n squared",
    "every tree with n nodes has n-1 edges",
    "the harmonic series diverges",
    "the angles of a triangle sum to 180 degrees",
    "there is no largest even number",
    "every prime above 3 is one more or one less than a multiple of 6",
)
_PHENOMENA = (
    "photosynthesis",
    "nuclear fusion",
    "plate tectonics",
    "the immune system",
    "quantum entanglement",
    "general relativity",
    "natural selection",
    "superconductivity",
    "DNA replication",
    "Hawking radiation",
)
_SCIENCE_PAIRS = (
    "mitosis and meiosis",
    "weather and climate",
    "speed and velocity",
    "an acid and a base",
    "a virus and a bacterium",
    "fission and fusion",
    "mass and weight",
    "DNA and RNA",
)
_EQUATIONS = (
    "H2 + O2 -> H2O",
    "Fe + O2 -> Fe2O3",
    "C3H8 + O2 -> CO2 + H2O",
    "Al + HCl -> AlCl3 + H2",
    "N2 + H2 -> NH3",
    "KClO3 -> KCl + O2",
)
_LAWS = (
    "second law of thermodynamics",
    "Pythagorean theorem",
    "central limit theorem",
    "Heisenberg uncertainty principle",
    "Bayes' theorem",
    "law of conservation of energy",
    "fundamental theorem of calculus",
    "Pauli exclusion principle",
)
_FORMULAS = (
    "the area of a circle",
    "kinetic energy",
    "the quadratic formula",
    "the volume of a sphere",
    "the period of a pendulum",
    "escape velocity",
)
_ODES = ("y' = 3y", "y'' + y = 0", "y' + 2y = e^x", "y'' - 4y = 0", "dy/dx = xy", "y' = y^2")
_LIMITS = (
    "sin(x)/x as x approaches 0",
    "(1+1/x)^x as x approaches infinity",
    "(x^2-1)/(x-1) as x approaches 1",
    "x ln(x) as x approaches 0",
    "(e^x - 1)/x as x approaches 0",
    "sqrt(x+1) - sqrt(x) as x approaches infinity",
)
_WHY_SCIENCE = (
    "the sky blue",
    "ice less dense than water",
    "the ocean salty",
    "the speed of light the same for everyone",
    "carbon so central to life",
    "mercury liquid at room temperature",
    "the Moon always showing us the same face",
    "glass transparent",
)
_LANGS = ("Python", "JavaScript", "Rust", "Go", "Java", "C++", "Haskell", "Ruby", "Kotlin", "TypeScript")
_CODE_TASKS = (
    "sorts a list with merge sort",
    "reverses a linked list",
    "checks whether a string is a palindrome",
    "computes Fibonacci numbers with memoization",
    "parses a CSV file into records",
    "finds the longest common subsequence of two strings",
    "implements binary search",
    "flattens a nested list",
    "counts word frequencies in a text file",
    "merges overlapping intervals",
)
_CODE_HOWTO = (
    "read a file line by line",
    "handle exceptions properly",
    "create a class with inheritance",
    "use async/await",
    "write unit tests",
    "connect to a PostgreSQL database",
    "parse JSON",
    "spawn a background thread",
)
_CODE_ERRORS = (
    "Python error 'IndexError: list index out of range'",
    "Java NullPointerException",
    "C segmentation fault",
    "JavaScript 'TypeError: undefined is not a function'",
    "Rust error 'borrow of moved value'",
    "Python 'ModuleNotFoundError: No module named numpy'",
    "Go error 'assignment to entry in nil map'",
    "C++ linker error 'undefined reference to main'",
)
_SQL_TASKS = (
    "returns the top five customers by revenue",
    "finds duplicate email addresses",
    "joins orders with customers and products",
    "computes a running total per month",
    "deletes rows older than one year",
    "counts users per country",
    "finds employees earning more than their manager",
)
_ALGOS = (
    "Dijkstra's algorithm",
    "a trie",
    "quicksort",
    "an LRU cache",
    "a red-black tree",
    "A* search",
    "a Bloom filter",
    "topological sort",
)
_WEB_APPS = ("Flask", "Node.js Express", "Django", "Spring Boot", "FastAPI", "Ruby on Rails")
_CI_TASKS = (
    "runs pytest on every push",
    "lints the code with ESLint",
    "builds and pushes a Docker image",
    "deploys to AWS Lambda",
    "publishes a Python package to PyPI",
    "runs database migrations before deploy",
)
_CS_PAIRS = (
    "a process and a thread",
    "stack and heap memory",
    "TCP and UDP",
    "REST and GraphQL",
    "composition and inheritance",
    "SQL and NoSQL databases",
    "git merge and git rebase",
    "static and dynamic typing",
)
_CONCEPTS = (
    "consciousness",
    "free will",
    "the meaning of life",
    "justice",
    "beauty",
    "personal identity",
    "truth",
    "happiness",
    "time",
    "morality",
)
_PHIL_CLAIMS = (
    "humans have free will",
    "morality is objective",
    "mathematics is discovered rather than invented",
    "a machine could ever be conscious",
    "we live in a simulation",
    "happiness is the goal of life",
    "art needs an audience",
    "knowledge requires certainty",
)
_PHILOSOPHERS = (
    "Plato",
    "Kant",
    "Nietzsche",
    "Simone de Beauvoir",
    "Confucius",
    "Hume",
    "Spinoza",
    "Hannah Arendt",
)
_PHIL_TOPICS = (
    "social media",
    "artificial intelligence",
    "climate change",
    "celebrity culture",
    "remote work",
    "lying to protect a friend",
)
_ETHICAL_ACTS = (
    "lie to protect someone",
    "break an unjust law",
    "sacrifice one person to save five",
    "eat meat",
    "keep a promise that causes harm",
    "steal to feed a family",
)
_LIFE_TOPICS = (
    "death",
    "regret",
    "ambition",
    "loneliness",
    "growing older",
    "failure",
    "forgiveness",
    "success",
)
_SCHOOLS = (
    "stoicism",
    "existentialism",
    "utilitarianism",
    "nihilism",
    "the Buddhist idea of no-self",
    "absurdism",
    "pragmatism",
    "Taoism",
)
_LIFE_ADJ = ("meaningful", "good", "worth living", "well lived", "authentic", "virtuous")
_ILLUSIONS = ("free will", "time", "the self", "color", "money", "progress", "the present moment")
_PHIL_PAIRS = (
    "mind and body",
    "language and thought",
    "freedom and responsibility",
    "knowledge and belief",
    "art and truth",
    "science and religion",
)
_FEARS = ("death", "change", "the unknown", "being forgotten", "meaninglessness", "silence")
_POEM_TOPICS = (
    "autumn rain",
    "a lighthouse keeper",
    "first love",
    "the ocean at night",
    "a city waking up",
    "an old dog",
    "the moon",
    "leaving home",
    "a broken clock",
    "winter silence",
)
_PREMISES = (
    "a robot who learns to paint",
    "a detective on Mars",
    "two strangers stuck in an elevator",
    "a dragon who is afraid of fire",
    "a time traveler who misses the bus",
    "a village where it never stops snowing",
    "a ghost who haunts a library",
    "a chef who can taste memories",
)
_GENRES_SONG = ("a country ballad", "a punk anthem", "a lullaby", "a blues song", "a sea shanty", "a pop hit")
_GENRES_NOVEL = ("mystery", "fantasy", "science fiction", "romance", "horror", "thriller")
_SETTINGS = (
    "Victorian London",
    "a floating city",
    "a desert outpost",
    "1920s Shanghai",
    "an underwater colony",
    "a remote Arctic station",
)
_LIMERICK = (
    "a cat who loves cheese",
    "a forgetful wizard",
    "a tired programmer",
    "a dancing giraffe",
    "a grumpy pirate",
    "a snail in a hurry",
)
_SCENES = (
    "a thunderstorm over the sea",
    "a crowded night market",
    "a forest after snowfall",
    "a sunrise in the desert",
    "an abandoned amusement park",
    "a quiet library at midnight",
)
_DIALOGUE_PAIRS = (
    "a knight and a dragon",
    "the sun and the moon",
    "a teacher and a rebellious student",
    "a cat and a mouse who are friends",
    "Sherlock Holmes and a modern hacker",
    "a grandmother and a robot",
)
_LESSONS = ("patience", "honesty", "kindness to strangers", "the value of hard work", "courage", "sharing")
_WORLD_FEATURES = (
    "two suns",
    "no music",
    "floating islands",
    "talking animals",
    "an endless winter",
    "magic powered by memories",
)
_ANDROID_TASKS = (
    "turn on Wi-Fi when I get home",
    "silence my phone at night",
    "launch Spotify when headphones are plugged in",
    "send an SMS when my battery is low",
    "enable battery saver below 20 percent",
    "turn off Bluetooth when I leave work",
    "read my notifications aloud while driving",
    "switch to dark mode at sunset",
)
_ANDROID_WIDGETS = (
    "shows the weather",
    "displays my next calendar event",
    "toggles the flashlight",
    "counts down to a date",
    "shows my step count",
    "lists my to-dos",
)
_APP_IDEAS = (
    "tracks my water intake",
    "plays a random song",
    "scans QR codes",
    "logs my workouts",
    "sets a daily reminder",
    "shows the battery level",
)
_UI_SCREENS = (
    "shows a list of contacts",
    "has a login form",
    "displays a photo grid",
    "shows a list of settings toggles",
    "renders a bar chart",
    "has a bottom navigation bar",
)
_TASKER_VARS = (
    "store the last SMS sender",
    "count how many times I unlock my phone",
    "save my parking location",
    "remember the current Wi-Fi network",
    "track how long my phone has been charging",
)
_ANDROID_INTENTS = (
    "opens the camera",
    "shares a text to WhatsApp",
    "dials a phone number",
    "opens a web page in Chrome",
    "picks an image from the gallery",
    "sends an email",
)
_ANDROID_EVENTS = (
    "the phone starts charging",
    "airplane mode changes",
    "a new SMS arrives",
    "the screen turns off",
    "headphones are connected",
)
_SWIFT_TASKS = (
    "decode JSON with Codable",
    "make a network request with URLSession",
    "persist data with Core Data",
    "use async/await",
    "schedule a local notification from my app",
    "read HealthKit step counts",
    "show a sheet from a button",
)
_UIKIT = (
    "shows a table of messages",
    "presents a camera picker",
    "handles a swipe gesture",
    "displays a web view",
    "shows an alert with two buttons",
)
_SWIFT_ERRORS = (
    "'Cannot convert value of type String to expected argument type Int'",
    "'Value of optional type must be unwrapped'",
    "'Type does not conform to protocol Decodable'",
    "'Escaping closure captures mutating self parameter'",
    "'Missing return in a function expected to return Bool'",
)
_COMBINE = (
    "debounce a search field",
    "merge two publishers",
    "bind a slider to a label",
    "handle network errors",
    "cancel a subscription",
)
_TESTED_FUNCS = (
    "formats a date",
    "validates a password",
    "parses a price",
    "sorts contacts by name",
    "computes a tip",
)
_SWIFT_PAIRS = (
    "@State and @Binding",
    "a struct and a class in Swift",
    "@ObservedObject and @StateObject",
    "UIKit and SwiftUI",
    "GCD and Swift concurrency",
)
_DATA_MODELS = ("a recipe app", "a habit tracker", "a budgeting app", "a reading list", "a workout log")
_SWIFTUI_VIEWS = (
    "shows a list of contacts",
    "has a login form",
    "displays a photo grid",
    "shows a list of settings toggles",
    "renders a bar chart",
    "has a tab bar with three tabs",
    "animates a progress ring",
    "shows a map with pins",
)
_ZAPS = (
    "posts new Gmail attachments to Dropbox",
    "adds new Typeform responses to a Google Sheet",
    "sends a Slack message when a Trello card moves",
    "creates Asana tasks from starred emails",
    "saves new Instagram posts to Airtable",
    "notifies a Discord channel about new RSS items",
    "copies Stripe payments into QuickBooks",
    "adds Calendly bookings to HubSpot",
    "posts new Shopify orders to a Slack channel",
    "copies Typeform answers into Airtable",
)
_IFTTT = (
    "turns on my Philips Hue lights when it rains",
    "tweets my new YouTube videos",
    "saves my Instagram photos to Google Drive",
    "emails me when NASA posts a new image",
    "logs my Fitbit sleep to a spreadsheet",
    "mutes my Android phone at work",
)
_APP_PAIRS = (
    ("Mailchimp", "Shopify"),
    ("Salesforce", "Slack"),
    ("Notion", "Google Calendar"),
    ("Jira", "GitHub"),
    ("Zendesk", "Trello"),
    ("Gmail", "Airtable"),
)
_AUTOMATION_USES = (
    "a small online store",
    "home automation",
    "social media posting",
    "lead management",
    "personal productivity",
)
_ZAP_ERRORS = (
    "Required field is missing",
    "The app returned a 401",
    "Task limit reached",
    "Invalid date format",
    "Rate limit exceeded",
)
_WEBHOOK_STEPS = (
    "filters out test orders",
    "formats a phone number",
    "splits a full name into first and last",
    "converts a timestamp to ISO format",
    "removes duplicate leads",
)
_IFTTT_SERVICES = (
    "control my Nest thermostat",
    "get a message when my Roomba finishes",
    "back up my tweets",
    "track my car's location",
    "switch my smart plug on at sunset",
)
_ROUTINES = (
    "turns off all the lights at 11 pm",
    "plays the news when I say good morning",
    "starts the coffee maker at 7 am",
    "announces when the laundry is done",
    "locks the front door at bedtime",
    "dims the living room lights at sunset",
    "starts the robot vacuum when everyone leaves",
)
_PS_TASKS = (
    "renames every file in a folder by date",
    "lists all running services",
    "deletes temp files older than 30 days",
    "exports installed programs to CSV",
    "checks free disk space on all drives",
    "restarts the print spooler",
    "backs up my Documents folder to a network share",
    "logs CPU usage every minute",
    "renames every file in a folder by date",
    "lists the ten largest files on drive C",
    "restarts a stuck Windows service",
    "exports the installed programs to a CSV file",
)
_SCHED = (
    "runs a backup every night at 2 am",
    "launches Outlook at login",
    "shuts down the PC at midnight",
    "runs a Python script every hour",
    "cleans the Downloads folder weekly",
    "defragments the disk every Sunday",
    "empties the Recycle Bin on the first of the month",
)
_BATCH = (
    "map a network drive",
    "open five programs at once",
    "empty the recycle bin",
    "change the IP address",
    "copy files to a USB stick",
)
_AHK = (
    "types my email address when I press Ctrl+E",
    "remaps Caps Lock to Escape",
    "opens Chrome with Win+C",
    "clicks the mouse every five seconds",
    "pastes the date in ISO format",
)
_PAD = (
    "fill in an Excel sheet from a PDF",
    "rename downloaded invoices",
    "scrape a table from a website",
    "log into a web app every morning",
    "move Outlook attachments to OneDrive",
)
_REG = (
    "disables Bing search in the Start menu",
    "shows file extensions",
    "turns off automatic restarts",
    "brings back the classic context menu",
    "hides the taskbar search box",
)
_PS_ERRORS = (
    "'running scripts is disabled on this system'",
    "'The term is not recognized as the name of a cmdlet'",
    "'Access to the path is denied'",
    "'Cannot bind argument to parameter Path because it is null'",
    "'Missing closing brace in statement block'",
)
_GPO = (
    "blocks USB storage",
    "forces a desktop wallpaper",
    "sets a password expiry of 90 days",
    "disables the Control Panel",
    "deploys a printer to all users",
)
_BAT_SNIPPETS = (
    "copy *.txt D:\\backup",
    "del /q %TEMP%\\*",
    "ping -n 5 8.8.8.8",
    "ipconfig /flushdns",
    'tasklist | find "chrome"',
)
_VBA = (
    "creating monthly reports in Excel",
    "sending mail merges from Word",
    "formatting tables in Access",
    "exporting Outlook contacts",
    "updating PowerPoint charts",
)
_PS_ONELINERS = (
    "find the ten largest files on C:",
    "get the last boot time",
    "list users in a local group",
    "stop every Notepad process",
    "show the Wi-Fi profiles saved on this PC",
)
_WIN_HOTKEYS = (
    "opens the Snipping Tool",
    "launches Task Manager",
    "locks the computer",
    "opens a specific folder",
    "starts Notepad",
)
_IPHONE_PROBLEMS = (
    "drain its battery so fast overnight",
    "get hot while charging",
    "keep restarting on its own",
    "show No Service",
    "keep dropping Wi-Fi",
    "run so slowly after the update",
    "not ring for incoming calls",
    "freeze when I open the camera",
)
_IPHONE_HOWTO = (
    "factory reset",
    "back up everything to iCloud",
    "transfer my data to a new phone",
    "free up storage",
    "update to the latest iOS",
    "change the Apple ID email",
    "set up Face ID again",
    "check the battery health",
)
_IOS_VERSIONS = ("16", "17", "18", "17.4", "18.1", "26")
_IPHONE_MODELS = ("16 Pro", "15", "15 Pro Max", "16e", "16 Plus")
_OLD_PHONES = ("iPhone 12", "iPhone 11", "iPhone XR", "iPhone 13 mini")
_STATUS_ICONS = (
    "orange dot",
    "green dot",
    "arrow",
    "crescent moon",
    "lock with a circle",
    "yellow battery",
)
_SERVICES = (
    "iCloud+ with 200 GB",
    "Apple Music",
    "Apple One",
    "AppleCare+",
    "Apple TV+",
    "Apple Arcade",
)
_IPHONE_FEATURES = (
    "Apple Intelligence",
    "wireless charging",
    "5G",
    "an eSIM only",
    "an Always-On display",
    "USB-C",
)
_IOS_FEATURES = (
    "Background App Refresh",
    "Low Power Mode",
    "App Tracking Transparency",
    "Find My offline finding",
    "iCloud Keychain",
    "Stolen Device Protection",
    "Face ID",
    "AirDrop",
)
_IPAD_CANT = (
    "install apps from outside the App Store",
    "delete the Photos app",
    "change the default maps app",
    "see my hidden photos",
    "download a large app over cellular",
)
_IOS_PAIRS = (
    "Focus modes and Do Not Disturb",
    "iCloud Drive and iCloud Photos",
    "Screen Time and Content Restrictions",
    "offloading an app and deleting it",
    "Low Power Mode and Low Data Mode",
)
_IPHONE_SAFE = (
    "jailbreak",
    "charge overnight",
    "use a third-party charger",
    "install beta software",
    "leave Bluetooth on",
)

_ANDROID_ADB = (
    "disables the lock screen",
    "grants Tasker the WRITE_SECURE_SETTINGS permission",
    "changes the screen timeout",
    "uninstalls a system app",
    "takes a screenshot",
)
_ANDROID_BG = (
    "syncs my notes every hour",
    "uploads photos on Wi-Fi",
    "checks a web page for changes",
    "cleans the cache every night",
    "backs up my contacts",
)
_SWIFTUI_MODS = (
    "adds a shimmer effect",
    "rounds only the top corners",
    "shakes a view on error",
    "applies a card style",
    "hides the keyboard on tap",
)
_IOS_TOGGLES = (
    "Low Power Mode",
    "Wi-Fi",
    "Bluetooth",
    "Do Not Disturb",
    "Airplane Mode",
    "Dark Mode",
    "the flashlight",
    "cellular data",
    "Night Shift",
    "the Sleep Focus",
)
_TIMES = ("7 am", "10 pm", "6:30 in the morning", "midnight", "9 pm", "noon")
_PERCENTS = ("20", "30", "50", "15", "80")
_CONTACTS = ("my wife", "Mom", "my boss", "Alex", "the group chat", "my brother")
_PLAYLISTS = ("my running playlist", "some jazz", "my Liked Songs", "a podcast", "the Chill Mix")
_IOS_APPS = ("Spotify", "Maps", "the Camera", "Notes", "Slack", "WhatsApp", "Reminders")
_PHONE_FACTS = (
    "battery level",
    "current location",
    "Wi-Fi network name",
    "free storage",
    "screen time today",
)
_TRIGGERS = (
    "I connect to CarPlay",
    "my AirPods connect",
    "I arrive at work",
    "I leave home",
    "I open the Camera",
    "my alarm goes off",
)
_ALBUMS = ("Receipts", "Family", "Work", "Travel", "Ideas")
_MINUTES = ("5", "10", "25", "45", "90")

# ------------------------------------------------------------------------ templates by category

CATEGORY_TEMPLATES: MappingProxyType = MappingProxyType(
    {
        "general_knowledge": (
            _t("capital", QUE, "What is the capital of {country}?"),
            _t("language", QUE, "Which language do most people speak in {country}?"),
            _t("person_who", QUE, "Who was {person} and why are they famous?"),
            _t("event_causes", IMP, "Explain the causes of {event}."),
            _t("event_summary", IMP, "Give me a short summary of {event}."),
            _t("event_when", QUE, "When did {event} happen?"),
            _t("country_known", QUE, "What is {country} best known for?"),
            _t("person_facts", IMP, "Tell me three interesting facts about {person}."),
            _t("event_impact", QUE, "How did {event} change the world?"),
            _t("person_achievement", QUE, "What was the greatest achievement of {person}?"),
            _t("landmark_why", QUE, "Why is {landmark} famous?"),
            _t("landmark_who", QUE, "Who built {landmark}, and when?"),
            _t("country_geo", IMP, "Describe the geography of {country}."),
            _t("country_history", IMP, "Outline the history of {country} in a few sentences."),
        ),
        "math_science": (
            _t("integral", IMP, "Solve the integral of {function} with respect to x."),
            _t("derivative", IMP, "Find the derivative of {function}."),
            _t("proof", IMP, "Prove that {math_claim}."),
            _t("phenomenon", IMP, "Explain how {phenomenon} works."),
            _t("difference", QUE, "What is the difference between {science_pair}?"),
            _t("balance", IMP, "Balance the chemical equation {equation}."),
            _t("law", IMP, "Explain the {law} in simple terms."),
            _t("derive", IMP, "Derive the formula for {formula}."),
            _t("ode", IMP, "Solve the differential equation {ode}."),
            _t("limit", QUE, "What is the limit of {limit}?"),
            _t("why", QUE, "Why is {why_science}?"),
            _t("phenomenon_discovery", QUE, "Who discovered {phenomenon}, and how?"),
            _t("law_example", IMP, "Give a worked example of the {law}."),
        ),
        "coding": (
            _t("function", IMP, "Write a {lang} function that {code_task}."),
            _t("howto", QUE, "How do I {code_howto} in {lang}?"),
            _t("error", QUE, "What does the {code_error} mean and how do I fix it?"),
            _t("sql", IMP, "Write a SQL query that {sql_task}."),
            _t("implement", IMP, "Implement {algo} in {lang}."),
            _t("complexity", QUE, "What is the time complexity of {algo}?"),
            _t("dockerfile", IMP, "Write a Dockerfile for a {web_app} app."),
            _t("ci", IMP, "Set up a GitHub Actions workflow that {ci_task}."),
            _t("difference", IMP, "Explain the difference between {cs_pair}."),
            _t("review", IMP, "Review my {lang} code that {code_task} and suggest improvements."),
            _t("test", IMP, "Write unit tests in {lang} for a function that {code_task}."),
            _t("interview", QUE, "How is {algo} best explained in a coding interview?"),
        ),
        "philosophical": (
            _t("what_is", QUE, "What is {concept}?"),
            _t("do_you_think", QUE, "Do you think {phil_claim}?"),
            _t("philosopher", QUE, "What would {philosopher} say about {phil_topic}?"),
            _t("ever_right", QUE, "Is it ever right to {ethical_act}?"),
            _t("think_about", QUE, "How should a person think about {life_topic}?"),
            _t("school", IMP, "Explain {school} and its main ideas."),
            _t("life_adj", QUE, "What makes a life {life_adj}?"),
            _t("illusion", QUE, "Is {illusion} an illusion?"),
            _t("relationship", QUE, "What is the relationship between {phil_pair}?"),
            _t("debate", IMP, "Argue both sides of whether {phil_claim}."),
            _t("fear", QUE, "Why do people fear {fear}?"),
            _t("define", IMP, "Give me your best definition of {concept}."),
        ),
        "creative_writing": (
            _t("poem", IMP, "Write a poem about {poem_topic}."),
            _t("story", IMP, "Write a short story about {premise}."),
            _t("haiku", IMP, "Compose a haiku about {poem_topic}."),
            _t("lyrics", IMP, "Write song lyrics about {poem_topic} in the style of {song_genre}."),
            _t("outline", IMP, "Give me a plot outline for a {novel_genre} novel set in {setting}."),
            _t("limerick", IMP, "Write a limerick about {limerick}."),
            _t("scene", IMP, "Describe {scene} using vivid imagery."),
            _t("dialogue", IMP, "Write a dialogue between {dialogue_pair}."),
            _t("fairy_tale", IMP, "Invent a fairy tale that teaches {lesson}."),
            _t("opening", IMP, "Write the opening paragraph of a novel about {premise}."),
            _t("world", IMP, "Create a fictional world with {world_feature}."),
            _t("sonnet", IMP, "Write a sonnet about {poem_topic}."),
        ),
        "near_android_tasker": (
            _t("tasker_profile", IMP, "Create a Tasker profile to {android_task}."),
            _t("android_widget", QUE, "How do I make an Android home screen widget that {android_widget}?"),
            _t("kotlin_app", IMP, "Write a Kotlin app for Android that {app_idea}."),
            _t("automate_flow", IMP, "Set up an Automate flow on my Pixel to {android_task}."),
            _t("macrodroid", IMP, "In MacroDroid, make a macro to {android_task}."),
            _t("compose", IMP, "Write a Jetpack Compose screen that {ui_screen}."),
            _t("tasker_vars", QUE, "How do I use Tasker variables to {tasker_var}?"),
            _t("intent", IMP, "Write an Android intent in Java that {android_intent}."),
            _t("bixby", IMP, "Build a Samsung Bixby Routine to {android_task}."),
            _t("broken", QUE, "My Tasker task to {android_task} stopped working on Android 14. Why?"),
            _t("receiver", IMP, "Write an Android broadcast receiver that reacts when {android_event}."),
            _t("plugin", QUE, "Which Tasker plugin lets me {android_task}?"),
            _t("adb", IMP, "Write an ADB shell command that {android_adb}."),
            _t("workmanager", IMP, "Write a Kotlin WorkManager job that {android_bg}."),
            _t("assistant", IMP, "Set up Google Assistant on my Android phone to {android_task}."),
            _t("qs_tile", IMP, "Write an Android Quick Settings tile in Kotlin that {android_widget}."),
            _t("compare", IMP, "Compare Tasker and MacroDroid for {automation_use}."),
            _t("root", QUE, "Do I have to root my Galaxy phone so that Tasker can {android_task}?"),
        ),
        "near_swiftui_ios_code": (
            _t("swiftui_view", IMP, "Write a SwiftUI view that {swiftui_view}."),
            _t("swift_howto", QUE, "How do I {swift_task} in Swift?"),
            _t("xcode_app", IMP, "Build an iOS app in Xcode that {app_idea}."),
            _t("uikit", IMP, "Write a UIKit view controller that {uikit}."),
            _t(
                "app_intent",
                IMP,
                "Write the Swift code for an App Intent that lets my app expose an action that {app_idea}.",
            ),
            _t("widgetkit", IMP, "Create a WidgetKit widget in Swift that {android_widget}."),
            _t("compiler_error", IMP, "Fix this Swift compiler error: {swift_error}."),
            _t("combine", QUE, "How do I use Combine to {combine}?"),
            _t("xctest", IMP, "Write an XCTest unit test for a function that {tested_func}."),
            _t("difference", IMP, "Explain the difference between {swift_pair}."),
            _t("watchos", IMP, "Write Swift code for a watchOS complication that {android_widget}."),
            _t("core_data", IMP, "Design a Core Data model in Swift for {data_model}."),
            _t("modifier", IMP, "Write a SwiftUI view modifier that {swiftui_mod}."),
            _t("testflight", QUE, "How do I ship {data_model} to TestFlight from Xcode?"),
            _t("objc", IMP, "Write an Objective-C method for a function that {tested_func}."),
            _t("live_activity", IMP, "Add a Live Activity to my iOS app that {android_widget}."),
            _t("port", IMP, "Port my Android app to iOS in Swift; it {app_idea}."),
            _t(
                "observation",
                IMP,
                "Refactor my SwiftUI code for {data_model} to use the Observation framework.",
            ),
        ),
        "near_ifttt_zapier": (
            _t("zap", IMP, "Make a Zapier zap that {zap}."),
            _t("applet", IMP, "Create an IFTTT applet that {ifttt}."),
            _t("connect", QUE, "How do I connect {app_a} to {app_b} in Zapier?"),
            _t("make_com", IMP, "Set up a Make.com scenario that {zap}."),
            _t("power_automate", IMP, "Write a Power Automate cloud flow that {zap}."),
            _t("compare", QUE, "Is IFTTT or Zapier better for {automation_use}?"),
            _t("zap_error", QUE, "Why does my Zap fail with the error '{zap_error}'?"),
            _t("n8n", IMP, "Build an n8n workflow that {zap}."),
            _t("webhook", IMP, "Write a Code by Zapier step in Python that {webhook_step}."),
            _t("ifttt_service", QUE, "Which IFTTT service lets me {ifttt_service}?"),
            _t("alexa", IMP, "Create an Alexa routine that {routine}."),
            _t("google_home", IMP, "Create a Google Home routine that {routine}."),
            _t("home_assistant", IMP, "Write a Home Assistant automation in YAML that {routine}."),
            _t("smartthings", IMP, "Build a SmartThings routine that {routine}."),
            _t("pipedream", IMP, "Set up a Pipedream workflow that {zap}."),
            _t("pricing", QUE, "Which Zapier plan do I need for {automation_use}?"),
        ),
        "near_windows_powershell": (
            _t("ps_script", IMP, "Write a PowerShell script that {ps_task}."),
            _t("task_scheduler", IMP, "Create a Windows Task Scheduler job that {sched}."),
            _t("batch", QUE, "How do I {batch} with a batch file?"),
            _t("ahk", IMP, "Write an AutoHotkey script that {ahk}."),
            _t("pad", QUE, "How do I use Power Automate Desktop to {pad}?"),
            _t("registry", IMP, "Write a registry tweak for Windows 11 that {reg}."),
            _t("ps_error", IMP, "Explain this PowerShell error: {ps_error}."),
            _t("gpo", IMP, "Write a Group Policy setting that {gpo}."),
            _t("convert_bat", IMP, "Convert this batch command to PowerShell: {bat_snippet}"),
            _t("vba", QUE, "How do I automate {vba} on Windows with VBA?"),
            _t("ps_oneliner", IMP, "Write a PowerShell one-liner to {ps_oneliner}."),
            _t("win_hotkey", IMP, "Make a Windows keyboard shortcut that {win_hotkey}."),
            _t("ps_logon", QUE, "How do I run a PowerShell script that {ps_task} at logon?"),
            _t("python_win", IMP, "Write a Python script for Windows that {ps_task}."),
            _t("scheduled_ps", IMP, "Schedule a PowerShell task that {sched}."),
            _t("wsh", IMP, "Write a Windows Script Host file that {ahk}."),
        ),
        "near_ios_questions": (
            _t("why_problem", QUE, "Why does my iPhone {iphone_problem}?"),
            _t("howto", QUE, "How do I {iphone_howto} on my iPhone?"),
            _t("whats_new", QUE, "What is new in iOS {ios_version}?"),
            _t("upgrade", QUE, "Is the iPhone {iphone_model} worth upgrading to from the {old_phone}?"),
            _t("status_icon", QUE, "What does the {status_icon} icon in the iPhone status bar mean?"),
            _t("price", QUE, "How much does {service} cost per month?"),
            _t("supports", QUE, "Does the iPhone {iphone_model} support {iphone_feature}?"),
            _t("explain_feature", IMP, "Explain how {ios_feature} works on iOS."),
            _t("ipad_cant", QUE, "Why can't I {ipad_cant} on my iPad?"),
            _t("difference", QUE, "What is the difference between {ios_pair} on iOS?"),
            _t("release", QUE, "When did Apple release iOS {ios_version}, and which iPhones got it?"),
            _t("safe", QUE, "Is it safe to {iphone_safe} with an iPhone?"),
            _t("greyed_out", QUE, "Why is {ios_feature} greyed out in Settings on my iPhone?"),
            _t("should_off", QUE, "Should I turn off {ios_feature} on my iPhone?"),
            _t("what_happens", QUE, "What happens if I disable {ios_feature} on iOS {ios_version}?"),
            _t("which_support", QUE, "Which iPhones support {iphone_feature}?"),
            _t("worth", QUE, "Is {service} worth it for an iPhone owner?"),
            _t("toggle_meaning", QUE, "What does {ios_toggle} actually do on an iPhone?"),
        ),
    }
)

# A pair slot ("app_a"/"app_b") is filled jointly; every other slot independently.
SLOTS: MappingProxyType = MappingProxyType(
    {
        "country": _COUNTRIES,
        "event": _EVENTS,
        "person": _PEOPLE,
        "landmark": _LANDMARKS,
        "function": _FUNCTIONS,
        "math_claim": _CLAIMS_MATH,
        "phenomenon": _PHENOMENA,
        "science_pair": _SCIENCE_PAIRS,
        "equation": _EQUATIONS,
        "law": _LAWS,
        "formula": _FORMULAS,
        "ode": _ODES,
        "limit": _LIMITS,
        "why_science": _WHY_SCIENCE,
        "lang": _LANGS,
        "code_task": _CODE_TASKS,
        "code_howto": _CODE_HOWTO,
        "code_error": _CODE_ERRORS,
        "sql_task": _SQL_TASKS,
        "algo": _ALGOS,
        "web_app": _WEB_APPS,
        "ci_task": _CI_TASKS,
        "cs_pair": _CS_PAIRS,
        "concept": _CONCEPTS,
        "phil_claim": _PHIL_CLAIMS,
        "philosopher": _PHILOSOPHERS,
        "phil_topic": _PHIL_TOPICS,
        "ethical_act": _ETHICAL_ACTS,
        "life_topic": _LIFE_TOPICS,
        "school": _SCHOOLS,
        "life_adj": _LIFE_ADJ,
        "illusion": _ILLUSIONS,
        "phil_pair": _PHIL_PAIRS,
        "fear": _FEARS,
        "poem_topic": _POEM_TOPICS,
        "premise": _PREMISES,
        "song_genre": _GENRES_SONG,
        "novel_genre": _GENRES_NOVEL,
        "setting": _SETTINGS,
        "limerick": _LIMERICK,
        "scene": _SCENES,
        "dialogue_pair": _DIALOGUE_PAIRS,
        "lesson": _LESSONS,
        "world_feature": _WORLD_FEATURES,
        "android_task": _ANDROID_TASKS,
        "android_widget": _ANDROID_WIDGETS,
        "app_idea": _APP_IDEAS,
        "ui_screen": _UI_SCREENS,
        "tasker_var": _TASKER_VARS,
        "android_intent": _ANDROID_INTENTS,
        "android_event": _ANDROID_EVENTS,
        "swiftui_view": _SWIFTUI_VIEWS,
        "swift_task": _SWIFT_TASKS,
        "uikit": _UIKIT,
        "swift_error": _SWIFT_ERRORS,
        "combine": _COMBINE,
        "tested_func": _TESTED_FUNCS,
        "swift_pair": _SWIFT_PAIRS,
        "data_model": _DATA_MODELS,
        "zap": _ZAPS,
        "ifttt": _IFTTT,
        "app_pair": _APP_PAIRS,
        "automation_use": _AUTOMATION_USES,
        "zap_error": _ZAP_ERRORS,
        "webhook_step": _WEBHOOK_STEPS,
        "ifttt_service": _IFTTT_SERVICES,
        "routine": _ROUTINES,
        "ps_task": _PS_TASKS,
        "sched": _SCHED,
        "batch": _BATCH,
        "ahk": _AHK,
        "pad": _PAD,
        "reg": _REG,
        "ps_error": _PS_ERRORS,
        "gpo": _GPO,
        "bat_snippet": _BAT_SNIPPETS,
        "vba": _VBA,
        "ps_oneliner": _PS_ONELINERS,
        "win_hotkey": _WIN_HOTKEYS,
        "iphone_problem": _IPHONE_PROBLEMS,
        "iphone_howto": _IPHONE_HOWTO,
        "ios_version": _IOS_VERSIONS,
        "iphone_model": _IPHONE_MODELS,
        "old_phone": _OLD_PHONES,
        "status_icon": _STATUS_ICONS,
        "service": _SERVICES,
        "iphone_feature": _IPHONE_FEATURES,
        "ios_feature": _IOS_FEATURES,
        "ipad_cant": _IPAD_CANT,
        "ios_pair": _IOS_PAIRS,
        "iphone_safe": _IPHONE_SAFE,
        "android_adb": _ANDROID_ADB,
        "android_bg": _ANDROID_BG,
        "swiftui_mod": _SWIFTUI_MODS,
        "ios_toggle": _IOS_TOGGLES,
        "time": _TIMES,
        "percent": _PERCENTS,
        "contact": _CONTACTS,
        "playlist": _PLAYLISTS,
        "ios_app": _IOS_APPS,
        "phone_fact": _PHONE_FACTS,
        "trigger": _TRIGGERS,
        "minutes": _MINUTES,
        "album": _ALBUMS,
    }
)

# Slots that are filled together from one tuple-valued slot list.
PAIRED_SLOTS: MappingProxyType = MappingProxyType({("app_a", "app_b"): "app_pair"})

# ------------------------------------------------------------------------ in-domain contrast templates

# In-domain requests written by us that DO something on the iPhone, in the vocabulary of the
# near-domain OOD categories (iOS settings, apps, automations). They teach the gate the line between
# "turn off Low Power Mode" (a Shortcut can) and "should I turn off Low Power Mode?" (a question about
# iOS, OOD). Every one is something Shortcuts' actions can do (sashimi's catalog: toggles, timers,
# messages, notes, media, location). Template id `own/contrast/<template>`.
CONTRAST_TEMPLATES: tuple[Template, ...] = (
    _t("toggle_on", IMP, "Turn on {ios_toggle} on my iPhone."),
    _t("toggle_at", IMP, "Turn off {ios_toggle} every day at {time}."),
    _t(
        "battery",
        IMP,
        "Make a shortcut that turns on {ios_toggle} when my battery drops below {percent} percent.",
    ),
    _t("trigger_toggle", IMP, "Set up an automation that turns off {ios_toggle} when {trigger}."),
    _t("trigger_music", IMP, "Create an iPhone automation that plays {playlist} when {trigger}."),
    _t("text_location", IMP, "Build a shortcut that texts {contact} my current location."),
    _t("save_fact", IMP, "Make a shortcut that saves my {phone_fact} to a note."),
    _t("show_fact", IMP, "Show my {phone_fact} in a notification."),
    _t("open_app", IMP, "Write a shortcut that opens {ios_app} and sets the volume to {percent} percent."),
    _t("timer", IMP, "Add a home screen shortcut that starts a {minutes}-minute timer."),
    _t(
        "night",
        IMP,
        "Every night at {time}, turn on {ios_toggle} and set the brightness to {percent} percent.",
    ),
    _t("message_when", IMP, "When {trigger}, send {contact} a message saying I am on my way."),
    _t("remind", IMP, "Remind me to charge my phone at {time} if the battery is under {percent} percent."),
    _t("focus_app", IMP, "Open {ios_app} and turn on {ios_toggle} when {trigger}."),
    _t("personal_auto", IMP, "Create a personal automation that turns on {ios_toggle} when {trigger}."),
    _t("make_auto", IMP, "Make an automation: when {trigger}, play {playlist}."),
    _t("text_when", IMP, "Set up a shortcut to text {contact} when {trigger}."),
    _t("toggle_open", IMP, "Create a shortcut that turns on {ios_toggle} and opens {ios_app}."),
    _t("share_fact", IMP, "Create a shortcut that shares my {phone_fact} with {contact}."),
    _t("button", IMP, "Build a home screen button that turns off {ios_toggle}."),
    _t("album", IMP, "Write a shortcut that saves the last photo I took to the {album} album."),
    _t("speak_fact", IMP, "Make a shortcut that reads my {phone_fact} out loud."),
    _t("volume_music", IMP, "When {trigger}, set the volume to {percent} percent and play {playlist}."),
    _t("weekdays", IMP, "Set up a shortcut that turns off {ios_toggle} at {time} on weekdays."),
    _t("email_fact", IMP, "Make an iPhone shortcut that emails {contact} my {phone_fact}."),
    _t("siri_fact", IMP, "Set up a Siri shortcut that tells me my {phone_fact}."),
    _t(
        "timer_toggle", IMP, "Make a shortcut that starts a {minutes}-minute timer and turns on {ios_toggle}."
    ),
    _t(
        "log_note",
        IMP,
        "Build a shortcut that asks me for a note and adds it to the {album} folder in Notes.",
    ),
    _t("automate_alarm", IMP, "Automate my iPhone so that {ios_toggle} turns off at {time}."),
    _t("wallpaper", IMP, "Create an automation that changes the wallpaper when {trigger}."),
)
