"""More out-of-domain categories and in-domain registers for the domain gate (issue 16 item 1).

Issue 5's templates (`sashimi.data.ood_templates`) cover knowledge questions, maths, generic coding,
philosophy, creative writing and five near-domain platforms. Requests written by other people also ask
for chat and advice, web front- and back-end code, CI/CD, build files, cron, infrastructure and
monitoring configuration, smart-home configuration, calculations and homework asked as questions,
translation of a text they give, and summaries of a text they paste. These are the OOD categories here.

The line with the in-domain side: "translate the text on my clipboard to Spanish" is a Shortcut (the
Translate action); "translate 'where is the station' into German" asks for an answer now, with the text
in the request — OOD. Likewise "ask me for the bill and work out 18 %" (a Shortcut) against "what is
18 % of 54?" (a calculation asked as a question, OOD).

In-domain registers (`REGISTER_TEMPLATES`): terse notes, third-person descriptions, rambling
first-person stories and questions about whether a shortcut could do something, all of them things
Shortcuts' actions do. Template ids: `ood/<category>/<template>` and `own/register/<template>`.

As in the first file, templates avoid the shared filler phrases ("please", "can you", "hey siri", "for
me", "right now", ...): every filler comes from the class-balanced layer in `sashimi.data.ood`.
"""

from __future__ import annotations

from types import MappingProxyType

from sashimi.data.ood_templates import Template

IMP, QUE = "imperative", "question"  # QUE also marks any prompt that does not start with a verb


def _t(tid: str, mode: str, text: str) -> Template:
    return Template(tid, mode, text)


# ------------------------------------------------------------------------ slot fillers

_CHAT_OPENERS = (
    "how was your weekend",
    "what are you up to",
    "do you have a favourite colour",
    "are you a real person",
    "what makes you laugh",
    "do you like music",
    "what do you do on a day off",
    "are you happy",
)
_ADVICE = (
    "ask for a raise",
    "make friends in a new city",
    "stop procrastinating",
    "deal with a difficult coworker",
    "get better sleep",
    "prepare for a job interview",
    "save for a house",
    "apologise to a friend",
    "learn to cook on a budget",
    "stay motivated at the gym",
)
_DILEMMAS = (
    "quit my job to travel",
    "move back in with my parents",
    "adopt a second cat",
    "tell my friend her boyfriend is lying",
    "switch my degree to computer science",
    "buy a used car or lease a new one",
    "go to my ex's wedding",
)
_FEELINGS = ("anxious", "lonely", "stressed", "bored", "overwhelmed", "unmotivated", "nervous")
_EVENTS_LIFE = (
    "a job interview tomorrow",
    "a first date tonight",
    "an exam on Monday",
    "a wedding speech to give",
    "a move to another country",
    "a hard conversation with my boss",
)
_FRONTEND = ("React", "Vue", "Svelte", "Angular", "plain HTML and CSS", "Next.js", "Tailwind CSS")
_UI_BITS = (
    "a login form with validation",
    "a modal dialog that traps focus",
    "an image carousel",
    "a sortable data table",
    "a responsive navigation bar",
    "an infinite-scroll feed",
    "a dark mode switch",
    "a pricing page with three tiers",
)
_CSS_PROBLEMS = (
    "centre an element vertically",
    "make a sticky footer",
    "stop my flexbox items from overflowing",
    "animate a height change smoothly",
    "make a grid with equal-height cards",
    "hide the scrollbar but keep scrolling",
)
_BACKEND = (
    "Express",
    "Django",
    "Flask",
    "FastAPI",
    "Spring Boot",
    "Laravel",
    "Rails",
    "ASP.NET Core",
    "Go net/http",
)
_ENDPOINTS = (
    "lists orders with pagination",
    "uploads an avatar image",
    "logs a user in with a JWT",
    "deletes a comment if the user owns it",
    "searches products by name",
    "exports a report as CSV",
    "handles a Stripe webhook",
)
_DATASTORES = ("Postgres", "MySQL", "MongoDB", "Redis", "SQLite", "DynamoDB")
_CI_SYSTEMS = ("GitHub Actions", "GitLab CI", "CircleCI", "Jenkins", "Azure Pipelines", "Bitbucket Pipelines")
_CI_JOBS = (
    "runs the tests on every pull request",
    "builds a Docker image and pushes it to a registry",
    "deploys to staging when main changes",
    "caches dependencies between runs",
    "publishes a package when a tag is pushed",
    "runs a linter and fails on warnings",
    "builds for three Python versions in a matrix",
)
_BUILD_FILES = (
    "Makefile",
    "CMakeLists.txt",
    "Dockerfile",
    "docker-compose.yml",
    "package.json",
    "pyproject.toml",
    "build.gradle",
    "pom.xml",
    "Cargo.toml",
    "webpack config",
)
_BUILD_GOALS = (
    "builds a C++ library and its tests",
    "runs a Node API next to Postgres",
    "packages a Python command-line tool",
    "compiles TypeScript and bundles it",
    "produces a small production image",
    "builds a Rust binary with two features",
)
_CRON_JOBS = (
    "back up a database every night at 2",
    "rotate the logs every Sunday",
    "clear a temp folder every hour",
    "renew certificates on the first of the month",
    "run a report script at 6 on weekdays",
    "restart a web server at 4 every morning",
)
_SCHEDULERS = ("crontab", "a systemd timer", "a Kubernetes CronJob", "launchd", "Celery beat", "anacron")
_INFRA_TOOLS = ("Terraform", "Ansible", "Kubernetes", "Helm", "CloudFormation", "Pulumi", "nginx", "HAProxy")
_INFRA_GOALS = (
    "a load-balanced web tier with two servers",
    "an S3 bucket with versioning and encryption",
    "a reverse proxy with TLS",
    "a VPC with private subnets",
    "a Postgres instance with daily snapshots",
    "autoscaling for a container service",
)
_MONITORING = ("Prometheus", "Grafana", "Datadog", "Nagios", "Zabbix", "the ELK stack", "New Relic", "Sentry")
_METRICS = (
    "CPU usage above 90 percent",
    "the error rate of an API",
    "disk space on a database server",
    "request latency at the 99th percentile",
    "a queue that keeps growing",
    "failed logins",
)
_SMART_HOME = ("Home Assistant", "openHAB", "Node-RED", "Hubitat", "ESPHome", "Homebridge")
_SMART_GOALS = (
    "turns on the hallway lights when motion is detected after dark",
    "closes the blinds when the sun hits the living room",
    "sends an alert when the freezer gets warm",
    "switches the heating off when a window opens",
    "dims the lights when the TV turns on",
    "starts the robot vacuum when everyone has left",
)
_DEVICES = (
    "a Zigbee motion sensor",
    "a Shelly relay",
    "a Z-Wave lock",
    "an ESP32 temperature sensor",
    "Hue bulbs",
)
_PERCENT_OF = ("15 percent of 80", "7.5 percent of 2,400", "120 percent of 35", "3 percent of 19,999")
_ARITH = (
    "348 times 27",
    "the square root of 2,025",
    "7 to the power of 5",
    "1,024 divided by 12",
    "19 squared minus 12 squared",
)
_WORD_PROBLEMS = (
    "a car travels 180 km in 2 hours and 15 minutes; what is its average speed",
    "if 4 workers build a wall in 6 days, how long do 3 workers take",
    "a shirt costs 40 dollars after a 20 percent discount; what was the original price",
    "how many ways can 5 people sit in a row",
    "what is the probability of rolling two sixes with two dice",
    "a tank fills in 3 hours and drains in 5; how long to fill it with both open",
)
_EQUATIONS_SOLVE = ("2x + 5 = 17", "x^2 - 5x + 6 = 0", "3(x - 4) = 2x + 1", "log2(x) = 6", "5x - 3 = 2x + 9")
_SUBJECTS = ("biology", "chemistry", "history", "economics", "geography", "physics", "literature")
_HOMEWORK = (
    "the causes of the First World War",
    "how the heart pumps blood",
    "what an ionic bond is",
    "why the Roman Republic fell",
    "how inflation affects savings",
    "the water cycle",
    "the themes of Romeo and Juliet",
    "how plate tectonics forms mountains",
)
_LANGUAGES = ("French", "German", "Spanish", "Japanese", "Italian", "Portuguese", "Korean", "Dutch")
_PHRASES = (
    "where is the nearest pharmacy",
    "I am allergic to peanuts",
    "could we have the bill",
    "my flight has been cancelled",
    "nice to meet you",
    "what time does the museum open",
    "I have lost my passport",
)
_FOREIGN = (
    "je voudrais un café au lait",
    "ich habe meinen Schlüssel verloren",
    "dónde está la biblioteca",
    "mi piace molto questa città",
    "onde fica a estação",
)
_PASTED = (
    "The board met on Thursday and agreed to raise prices by 5 percent from March, while the new "
    "warehouse opening slips to the autumn because of planning delays.",
    "Our trial of a four-day week ran for six months. Output held steady, sick days fell by a third, "
    "and most staff asked to keep it.",
    "Dear tenants, the water will be shut off on Tuesday between 9 and 1 for pipe repairs. We are sorry "
    "for the inconvenience.",
    "The study followed 2,000 adults for ten years and found that those who cycled to work had fewer "
    "heart problems than those who drove.",
    "Minutes: budget approved; hiring freeze lifted for engineering; offsite moved to May; Priya to "
    "send the agenda.",
    "The novel follows a lighthouse keeper who finds a stranded whale and, in saving it, reconnects "
    "with the village that shunned him.",
)
_TEXT_KINDS = ("article", "email", "paragraph", "meeting note", "review", "abstract")

# In-domain register slots: things Shortcuts' actions do.
_TERSE = (
    "timer {minutes} min",
    "wifi off",
    "dnd on till {time}",
    "low power on",
    "text {contact} omw",
    "screenshot to {album}",
    "brightness {percent}",
    "play {playlist}",
    "alarm {time}",
    "battery % out loud",
    "last photo to {album} album",
    "note from clipboard",
)
_PEOPLE_3P = (
    "My mum",
    "My grandfather",
    "My flatmate",
    "Our receptionist",
    "My daughter",
    "A friend of mine",
)
_WANTS_3P = (
    "wants a button that texts {contact} where she is",
    "would like the phone to read the weather aloud every morning at {time}",
    "needs a reminder on the phone at {time} to take her tablets",
    "wants the phone to go silent and start a {minutes}-minute timer with one tap",
    "would like the last photo saved into the {album} album automatically",
    "wants {ios_toggle} to switch off at {time} every day",
    "needs the phone to play {playlist} when {trigger}",
)
_STORIES = (
    "I always forget to tell {contact} when I'm leaving, so something that messages them my location when {trigger} would help",
    "every evening I end up turning off {ios_toggle} by hand at {time}, and I'd rather the phone did it",
    "I keep losing receipts, so one tap that takes a photo and drops it into the {album} album would be great",
    "when {trigger} I always want {playlist} on, and doing it myself every time is a pain",
    "my cooking goes wrong without a timer, so a quick {minutes}-minute timer on the home screen would save dinner",
)
_COULD_IT = (
    "turn on {ios_toggle} and open {ios_app}",
    "text {contact} that I'm running late",
    "log a glass of water to Health",
    "make a new note with today's date as the title",
    "send {contact} my location when {trigger}",
    "turn off {ios_toggle} at {time} every day",
    "start a {minutes}-minute timer and play {playlist}",
    "save my {phone_fact} into a note",
    "put the last photo I took in the {album} album",
    "read my {phone_fact} aloud when {trigger}",
)

# ------------------------------------------------------------------------ templates by category

BROAD_CATEGORY_TEMPLATES: MappingProxyType = MappingProxyType(
    {
        "chat_advice": (
            _t("chat", QUE, "{chat_opener}?"),
            _t("feeling", QUE, "I feel {feeling} today, talk to me."),
            _t("advice_how", QUE, "How do I {advice}?"),
            _t("advice_tips", IMP, "Give me some tips to {advice}."),
            _t("dilemma", QUE, "Should I {dilemma}?"),
            _t("event_nerves", QUE, "I have {life_event} and I'm {feeling}; what do I do?"),
            _t("opinion", QUE, "What do you honestly think: should I {dilemma}?"),
            _t("story_advice", QUE, "My friend wants to {advice}. What should she try first?"),
            _t("joke", IMP, "Tell me a joke about {feeling} people."),
            _t("greeting", QUE, "Good morning! {chat_opener}?"),
            _t("vent", QUE, "Ugh, {life_event}. Can we talk about something else?"),
            _t("recommend", IMP, "Recommend a book for someone who feels {feeling}."),
            _t("better_to", QUE, "Is it better to {dilemma} or to stay put?"),
            _t("friend", QUE, "Do you think my friend should {dilemma}?"),
            _t("motivate", IMP, "Say something encouraging, I have {life_event}."),
            _t("what_do_you", QUE, "What do you think about people who {dilemma}?"),
        ),
        "web_dev": (
            _t("component", IMP, "Write a {frontend} component for {ui_bit}."),
            _t("css", QUE, "How do I {css_problem} in CSS?"),
            _t("endpoint", IMP, "Write a {backend} endpoint that {endpoint}."),
            _t("endpoint_db", IMP, "Build a {backend} API that {endpoint}, backed by {datastore}."),
            _t("schema", IMP, "Design the {datastore} schema for an app that {endpoint}."),
            _t("bug", QUE, "My {frontend} app shows a blank page after I added {ui_bit}; why?"),
            _t("page", IMP, "Make a web page with {ui_bit} in {frontend}."),
            _t("migrate", QUE, "How would I move a {backend} app from {datastore} to Postgres?"),
            _t("fix_component", IMP, "Fix the state bug in my {frontend} code for {ui_bit}."),
            _t(
                "explain_endpoint", IMP, "Explain how a {backend} route that {endpoint} should handle errors."
            ),
            _t("test_endpoint", IMP, "Write integration tests for a {backend} endpoint that {endpoint}."),
            _t("style", IMP, "Style {ui_bit} with {frontend} so it works on phones."),
            _t("orm", IMP, "Write the {backend} model and query for an endpoint that {endpoint}."),
        ),
        "devops": (
            _t("ci", IMP, "Write a {ci_system} pipeline that {ci_job}."),
            _t("ci_why", QUE, "Why does my {ci_system} job fail only when it {ci_job}?"),
            _t("build_file", IMP, "Write a {build_file} that {build_goal}."),
            _t("build_fix", QUE, "What is wrong with my {build_file}? It never {build_goal}."),
            _t("cron", IMP, "Set up {scheduler} to {cron_job}."),
            _t("cron_expr", QUE, "What is the cron expression to {cron_job}?"),
            _t("infra", IMP, "Write {infra_tool} config for {infra_goal}."),
            _t("infra_how", QUE, "How do I get {infra_goal} with {infra_tool}?"),
            _t("monitor", IMP, "Set up a {monitoring} alert on {metric}."),
            _t("dashboard", IMP, "Build a {monitoring} dashboard that tracks {metric}."),
            _t("ci_cache", QUE, "How can I make my {ci_system} builds faster?"),
            _t("build_explain", IMP, "Explain each line of a {build_file} that {build_goal}."),
            _t("cron_fix", QUE, "My {scheduler} entry should {cron_job} but never runs; why?"),
            _t("infra_review", IMP, "Review my {infra_tool} setup for {infra_goal}."),
            _t("alert_route", IMP, "Send {monitoring} alerts about {metric} to a Slack channel."),
        ),
        "smart_home_config": (
            _t("automation", IMP, "Write a {smart_home} automation that {smart_goal}."),
            _t("yaml", IMP, "Give me the {smart_home} YAML for a rule that {smart_goal}."),
            _t("device", QUE, "How do I add {device} to {smart_home}?"),
            _t("broken", QUE, "My {smart_home} rule that {smart_goal} fires twice; how do I fix it?"),
            _t("flow", IMP, "Build a {smart_home} flow with {device} that {smart_goal}."),
            _t("compare", QUE, "Is {smart_home} good for a house with {device}?"),
            _t("script", IMP, "Make a {smart_home} script that {smart_goal}."),
            _t("template", IMP, "Write a {smart_home} template sensor for {device}."),
            _t("dashboard", IMP, "Design a {smart_home} dashboard card for {device}."),
            _t("install", QUE, "How do I install {smart_home} on a Raspberry Pi?"),
        ),
        "calculation_homework": (
            _t("percent", QUE, "What is {percent_of}?"),
            _t("arith", QUE, "What's {arith}?"),
            _t("word_problem", IMP, "Solve this: {word_problem}."),
            _t("equation", IMP, "Solve {equation_solve} for x and show the steps."),
            _t("homework_explain", IMP, "Explain {homework} for my {subject} homework."),
            _t("essay", IMP, "Write my {subject} essay on {homework}."),
            _t("quiz", IMP, "Quiz me on {homework}."),
            _t("check", QUE, "Is the answer to {equation_solve} x = 4? Check my working."),
            _t("percent_how", QUE, "How do I work out {percent_of} in my head?"),
            _t("arith_quick", IMP, "Quick maths: {arith}."),
            _t("word_explain", IMP, "Explain step by step: {word_problem}."),
            _t("homework_why", QUE, "Why is {homework} important for my {subject} exam?"),
            _t("flashcards", IMP, "Make flashcards about {homework}."),
        ),
        "translation_summary": (
            _t("translate", IMP, "Translate '{phrase}' into {language}."),
            _t("say", QUE, "How do you say '{phrase}' in {language}?"),
            _t("foreign", QUE, "What does '{foreign}' mean in English?"),
            _t("translate_pasted", IMP, "Translate this {text_kind} into {language}: {pasted}"),
            _t("summarise", IMP, "Summarise this {text_kind}: {pasted}"),
            _t("tldr", IMP, "Give me the gist of this {text_kind} in one line: {pasted}"),
            _t("bullets", IMP, "Turn this {text_kind} into three bullet points: {pasted}"),
            _t("rewrite", IMP, "Rewrite this {text_kind} so it sounds friendlier: {pasted}"),
            _t("meaning_of", QUE, "What does this {text_kind} mean? {pasted}"),
            _t("key_points", QUE, "What are the key points here? {pasted}"),
            _t("shorten", IMP, "Shorten this to one sentence: {pasted}"),
            _t("correct", QUE, "Is '{foreign}' correct, and what does it mean?"),
            _t("phrase_in", IMP, "Write '{phrase}' in {language} and how to pronounce it."),
        ),
    }
)

REGISTER_TEMPLATES: tuple[Template, ...] = (
    _t("terse", IMP, "{terse}"),
    _t("third_person", IMP, "{person_3p} {want_3p}."),
    _t("story", IMP, "So, {story}."),
    _t("could_it", QUE, "Is there a way to make my phone {could_it}?"),
    _t("could_shortcut", QUE, "Could a shortcut {could_it}?"),
    _t("the_user", IMP, "The user wants a shortcut that can {could_it}."),
    _t("siri_style", IMP, "{could_it_cap}"),
    _t("when_then", IMP, "Whenever {trigger}, {could_it}."),
    _t("need_thing", IMP, "Need a thing on my phone to {could_it}."),
    _t("idea", IMP, "Idea: one tap to {could_it}."),
    _t("person_ask", IMP, "{person_3p} asked me to set up her phone to {could_it}."),
    _t("terse_and", IMP, "{terse} + {terse2}"),
)

BROAD_SLOTS: MappingProxyType = MappingProxyType(
    {
        "chat_opener": _CHAT_OPENERS,
        "advice": _ADVICE,
        "dilemma": _DILEMMAS,
        "feeling": _FEELINGS,
        "life_event": _EVENTS_LIFE,
        "frontend": _FRONTEND,
        "ui_bit": _UI_BITS,
        "css_problem": _CSS_PROBLEMS,
        "backend": _BACKEND,
        "endpoint": _ENDPOINTS,
        "datastore": _DATASTORES,
        "ci_system": _CI_SYSTEMS,
        "ci_job": _CI_JOBS,
        "build_file": _BUILD_FILES,
        "build_goal": _BUILD_GOALS,
        "cron_job": _CRON_JOBS,
        "scheduler": _SCHEDULERS,
        "infra_tool": _INFRA_TOOLS,
        "infra_goal": _INFRA_GOALS,
        "monitoring": _MONITORING,
        "metric": _METRICS,
        "smart_home": _SMART_HOME,
        "smart_goal": _SMART_GOALS,
        "device": _DEVICES,
        "percent_of": _PERCENT_OF,
        "arith": _ARITH,
        "word_problem": _WORD_PROBLEMS,
        "equation_solve": _EQUATIONS_SOLVE,
        "subject": _SUBJECTS,
        "homework": _HOMEWORK,
        "language": _LANGUAGES,
        "phrase": _PHRASES,
        "foreign": _FOREIGN,
        "pasted": _PASTED,
        "text_kind": _TEXT_KINDS,
        "terse": _TERSE,
        "person_3p": _PEOPLE_3P,
        "want_3p": _WANTS_3P,
        "story": _STORIES,
        "could_it": _COULD_IT,
        "could_it_cap": tuple(c[0].upper() + c[1:] for c in _COULD_IT),
        "terse2": ("brightness 40", "wifi on", "music off", "timer 5 min", "dnd off", "hotspot on"),
    }
)
