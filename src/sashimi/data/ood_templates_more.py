"""A third batch of gate templates: more wording per out-of-domain intent, and its in-domain twins (issue 16 item 1).

The first two batches (`ood_templates`, `ood_templates_broad`) give each OOD category 6–16 templates over
small slot lists (six pasted texts, eight chat openers): a gate fitted on them learns those few
phrasings. This batch adds, for the same intents the issue lists, new *shapes* of request — chat turns
that share news or ask the assistant about itself, texts pasted with a task around them (proofread,
answer from, extract, reply to), questions that want an answer now, code for other platforms in many
languages, documents to write — with larger slot lists. Each OOD category comes with in-domain twins
(`MORE_CONTRAST_TEMPLATES`) that use the same words for what a Shortcut does on the device: "summarise
the article I share", "translate my clipboard", "ask me for two numbers and add them", "write a note".

Chosen with `sashimi data ood --more-templates` (categories and in-domain templates added to the first
two batches; without the flag the set is the one every earlier figure used). Written without reading
issue 16's blind set; the categories are the issue's list. As before, templates avoid the shared
filler phrases ("please", "can you", "hey", "for me", "just", ...): fillers come from the
class-balanced layer in `sashimi.data.ood`.
"""

from __future__ import annotations

from types import MappingProxyType

from sashimi.data.ood_templates import Template

IMP, QUE = "imperative", "question"


def _t(tid: str, mode: str, text: str) -> Template:
    return Template(tid, mode, text)


# ------------------------------------------------------------------------ slot fillers

_NEWS = (
    "I got the job",
    "my sister had a baby",
    "we adopted a puppy",
    "I finally finished my thesis",
    "my team lost the final",
    "I ran my first 10k",
    "it's my birthday today",
    "I broke up with my boyfriend",
    "we're moving to Lisbon",
    "I passed my driving test",
    "my cat knocked over the Christmas tree",
    "I burnt the lasagne again",
)
_ABOUT_YOU = (
    "what's your name",
    "who made you",
    "do you dream",
    "how old are you",
    "do you ever get tired of questions",
    "what's your favourite movie",
    "do you have feelings",
    "where do you live",
    "how do you spend your free time",
    "do you remember what I told you yesterday",
    "are you smarter than me",
    "what do you look like",
)
_GAMES = (
    "twenty questions",
    "a word association game",
    "trivia about the eighties",
    "this or that",
    "a riddle contest",
    "a guessing game with animals",
    "an emoji quiz about films",
)
_TOPICS_CHAT = (
    "space travel",
    "your favourite food",
    "the meaning of friendship",
    "the last good film you heard of",
    "dogs versus cats",
    "the weirdest fact you know",
    "whether pineapple belongs on pizza",
    "time travel",
    "the best decade for music",
)
_PASTED_MORE = (
    "Team, the launch moves to the 14th. QA found two blockers in checkout and we need a day to retest. "
    "Marketing, hold the emails until Thursday.",
    "Preheat the oven to 200C. Toss the potatoes in oil and salt, roast for 40 minutes, turning once, then "
    "finish with rosemary and a squeeze of lemon.",
    "The tenant shall give not less than two months' notice in writing and shall leave the property in the "
    "condition recorded at the start of the tenancy, fair wear and tear excepted.",
    "Honestly the hotel was fine. Room was small but clean, breakfast was cold twice, and the staff "
    "couldn't have been nicer when our flight got cancelled.",
    "Q3 revenue rose 12 percent to 4.1 million, driven by subscriptions; churn fell to 3 percent, but "
    "hardware margins shrank as component costs went up.",
    "Their our going to be a meeting tomorow at 10 in the big room, everyone should of read the report "
    "before hand.",
    "Patient reports a dry cough for two weeks, no fever, worse at night. Advised fluids and rest; review "
    "in ten days if no better.",
    "We regret to inform you that your application was not successful on this occasion. We received a "
    "very large number of strong applications.",
    "Volcanoes form where tectonic plates pull apart or push together, letting magma rise through the "
    "crust; some erupt explosively, others let lava flow slowly.",
    "lol did u see what happened at the match?? ref was blind, 2 penalties not given, im still fuming",
    "The committee thanked the volunteers, approved the summer fete budget of 800 pounds and agreed to "
    "repaint the village hall in September.",
    "Step 1: unplug the router. Step 2: wait thirty seconds. Step 3: plug it back in and wait for the "
    "green light. If the light stays orange, call support.",
    "Sales in the northern region fell for the third quarter running while the south grew, mostly "
    "helped by two new stores and a strong holiday season.",
    "Once upon a time a fox found a bell in the forest and rang it every morning until the whole wood "
    "woke up angry.",
    "Dear Sir or Madam, I am writing to complain about the late delivery of my sofa, which arrived three "
    "weeks after the promised date and with a torn cushion.",
    "The new policy lets staff work from home two days a week, starting in June, provided their manager "
    "agrees and their role allows it.",
)
_PASTE_TASKS = (
    "Proofread this and fix the mistakes",
    "Pull the dates and names out of this",
    "Write a polite reply to this",
    "Make this sound more formal",
    "Explain this to a ten year old",
    "Turn this into a tweet",
    "Find the main complaint in this",
    "Give this a catchy headline",
    "Rate how positive this is from 1 to 10",
    "List the action items in this",
    "Rewrite this in plain English",
    "Check the grammar of this",
)
_PASTE_QUESTIONS = (
    "what does the writer want",
    "is this good news or bad news",
    "who is this aimed at",
    "what happens next according to this",
    "does this sound rude",
    "what is the tone of this",
    "is there anything wrong with this",
)
_HOWTO = (
    "boil an egg so the yolk stays soft",
    "get red wine out of a carpet",
    "tie a bow tie",
    "change a flat tyre",
    "make sourdough starter",
    "unclog a sink without chemicals",
    "fold a fitted sheet",
    "write a good CV",
    "meditate",
    "negotiate rent with a landlord",
    "grow tomatoes on a balcony",
    "train a puppy to sit",
)
_EXPLAIN_WHAT = (
    "how vaccines work",
    "why the sky is blue",
    "what inflation is",
    "how a mortgage works",
    "what a black hole is",
    "why we have leap years",
    "how planes stay in the air",
    "what blockchain actually is",
    "why the Roman Empire fell",
    "how the stock market works",
    "what causes the seasons",
    "how noise cancelling headphones work",
)
_BUY = (
    "laptop for a student",
    "running shoes for flat feet",
    "espresso machine under 300 dollars",
    "camera for a beginner",
    "phone for my grandmother",
    "mattress for back pain",
    "board game for six people",
    "tent for a family of four",
)
_FACTS_Q = (
    "How tall is Mount Kilimanjaro",
    "Who wrote Pride and Prejudice",
    "When did the Berlin Wall fall",
    "How many bones are in the human body",
    "What is the biggest ocean",
    "Which planet has the most moons",
    "Who invented the telephone",
    "How long do elephants live",
    "What language do they speak in Brazil",
    "Why do cats purr",
    "How far away is the Moon",
    "What is the population of Canada",
)
_MONEY_Q = (
    "how much is a 2,000 dollar loan at 5 percent over three years",
    "how much would I save putting away 150 a month for ten years at 4 percent",
    "what's my take-home pay on a salary of 48,000",
    "is it cheaper to rent at 1,400 a month or buy at 320,000",
    "how long to pay off 6,000 on a credit card at 200 a month",
    "what's 35 dollars plus 8.25 percent sales tax",
)
_NUM_Q = (
    "What's 17 times 23",
    "What is the square root of 1,764",
    "How many seconds are in a week",
    "What's 3/8 plus 5/12",
    "How much is 1,250 divided by 7",
    "What is 2 to the power of 20",
    "What's the average of 14, 22, 9 and 31",
    "How many days are there between March 3 and July 19",
    "What's 65 miles an hour in metres per second",
    "If I drive 340 km at 90 km/h, how long does it take",
    "What's 12 percent of 1,850",
    "How many litres is 3 gallons",
)
_LANGS_CODE = (
    "Python",
    "Rust",
    "Go",
    "Java",
    "C#",
    "C++",
    "Ruby",
    "PHP",
    "Kotlin",
    "TypeScript",
    "Bash",
    "R",
    "Haskell",
    "Lua",
)
_CODE_TASKS = (
    "reads a CSV file and prints the total of the second column",
    "scrapes the headlines from a news site",
    "renames every file in a folder by date",
    "checks whether a string is a palindrome",
    "merges two sorted lists",
    "sends an email when a website goes down",
    "resizes all the images in a directory",
    "parses a JSON log and counts errors per hour",
    "implements a binary search tree",
    "downloads a file and verifies its checksum",
    "generates a random password",
    "finds duplicate files on a disk",
)
_CODE_THINGS = (
    "a Discord bot that posts the weather",
    "a Chrome extension that blocks Twitter after 10 pm",
    "an Arduino sketch that blinks an LED when it's dark",
    "a Unity script that makes the player jump",
    "a Minecraft mod that adds a new sword",
    "an Excel formula that looks up a price by product code",
    "a Google Sheets script that emails me new form responses",
    "a regex that matches UK postcodes",
    "a SQL query that finds customers with no orders",
    "a VS Code extension that counts words",
    "a Telegram bot that reminds a group about bins day",
    "a Raspberry Pi script that logs the temperature",
    "a WordPress plugin that adds a contact form",
    "a Slack bot that answers questions from our wiki",
)
_CODE_PROBLEMS = (
    "a segmentation fault",
    "'undefined is not a function'",
    "a NullPointerException",
    "an infinite loop",
    "a memory leak",
    "a race condition",
    "'ModuleNotFoundError'",
    "a merge conflict",
)
_DOCS = (
    "a cover letter for a barista job",
    "a best man's speech",
    "a eulogy for my grandfather",
    "a product description for handmade candles",
    "an Instagram caption for a beach photo",
    "a LinkedIn post about my promotion",
    "a resignation letter",
    "a birthday poem for my mum",
    "a short story about a lost robot",
    "a limerick about a cat",
    "song lyrics about summer",
    "a wedding toast",
    "a complaint letter to my landlord",
    "an out-of-office message that's funny",
)
_DOC_STYLES = (
    "that sounds like Shakespeare",
    "in under 100 words",
    "that rhymes",
    "that makes people cry",
    "in a pirate voice",
    "that is very formal",
)
_IDEAS = (
    "names for a bakery",
    "a theme for my daughter's party",
    "dinner ideas with chicken and rice",
    "a plot twist for my novel",
    "gift ideas for a dad who has everything",
    "a slogan for a recycling campaign",
    "questions to ask on a first date",
    "team building activities for ten people",
    "a name for my podcast about gardening",
    "things to do in Rome for three days",
)

# In-domain twins: the same words for things Shortcuts' actions do on the device.
_SHARED_THINGS = (
    "the article I share from Safari",
    "the text on my clipboard",
    "the web page I'm looking at",
    "the PDF I share",
    "the selected text",
    "my latest note",
    "the last email I copied",
)
_DEVICE_TEXT_TASKS = (
    "summarises {shared_thing} and saves the summary to Notes",
    "translates {shared_thing} into {language} and copies it",
    "reads {shared_thing} aloud",
    "counts the words in {shared_thing}",
    "proofreads {shared_thing} with Writing Tools and copies the result",
    "turns {shared_thing} into a new reminder",
    "emails {shared_thing} to {contact}",
    "saves {shared_thing} to a file in iCloud Drive",
)
_DEVICE_ASKS = (
    "asks me for two numbers and shows their sum",
    "asks for the bill total and works out a 20 percent tip",
    "asks how many miles I ran and logs it to a note",
    "asks me for a word and translates it into {language}",
    "asks for a temperature in Fahrenheit and shows it in Celsius",
    "asks me what I ate and adds it to my food diary note",
    "asks for a number of minutes and starts a timer",
    "asks me for a question and searches the web for it",
    "asks how my day was and adds the answer to my journal",
    "asks me for a city and shows the weather there",
)
_DEVICE_WRITES = (
    "creates a new note titled with today's date",
    "drafts an email to {contact} saying I'm running late",
    "adds a calendar event for {time} tomorrow",
    "writes the current weather into a note",
    "appends my location and the time to a log note",
    "copies a template message to the clipboard",
    "makes a reminder to call {contact} at {time}",
)

# ------------------------------------------------------------------------ templates by category

MORE_CATEGORY_TEMPLATES: MappingProxyType = MappingProxyType(
    {
        "chat_more": (
            _t("news", QUE, "Guess what, {news}!"),
            _t("news_react", QUE, "{news_cap}. What do you think?"),
            _t("about_you", QUE, "{about_you_cap}?"),
            _t("about_you_honest", QUE, "Be honest, {about_you}?"),
            _t("play", IMP, "Let's play {game}."),
            _t("play_want", QUE, "Do you want to play {game}?"),
            _t("talk_about", IMP, "Talk to me about {chat_topic}."),
            _t("opinion_topic", QUE, "What's your take on {chat_topic}?"),
            _t("bored", QUE, "I'm bored. Entertain me with {game}?"),
            _t("goodnight", QUE, "Goodnight! Did you enjoy our chat about {chat_topic}?"),
            _t("celebrate", IMP, "Celebrate with me, {news}!"),
            _t("pretend", IMP, "Pretend you're my friend and ask me about {chat_topic}."),
            _t("lonely", QUE, "Nobody's around tonight. Keep me company and tell me about {chat_topic}?"),
            _t("compliment", IMP, "Say something nice about me, {news}."),
        ),
        "pasted_text": (
            _t("task_colon", IMP, "{paste_task}: {pasted_more}"),
            _t("task_quoted", IMP, "{paste_task}. \"{pasted_more}\""),
            _t("question_after", QUE, "{pasted_more} In this, {paste_question}?"),
            _t("question_before", QUE, "Here's a message I got: {pasted_more} So {paste_question}?"),
            _t("summarise_more", IMP, "Sum this up in a sentence: {pasted_more}"),
            _t("translate_more", IMP, "Put this into {language}: {pasted_more}"),
            _t("tldr_after", QUE, "{pasted_more} tl;dr?"),
            _t("boss_sent", QUE, "My boss sent this: \"{pasted_more}\" How should I answer?"),
            _t("key_facts", IMP, "Read this and give me the key facts. {pasted_more}"),
            _t("shorter", IMP, "Make this shorter. {pasted_more}"),
            _t("bullet_after", IMP, "{pasted_more} -- bullet points of that."),
            _t("mistakes", QUE, "Are there mistakes in this? {pasted_more}"),
        ),
        "questions_now": (
            _t("howto", QUE, "How do you {howto}?"),
            _t("best_way", QUE, "What's the best way to {howto}?"),
            _t("explain", IMP, "Explain {explain_what}."),
            _t("eli5", IMP, "Explain {explain_what} like I'm five."),
            _t("buy", QUE, "Which {buy} should I get?"),
            _t("buy_recommend", IMP, "Recommend a good {buy}."),
            _t("fact", QUE, "{fact_q}?"),
            _t("fact_know", QUE, "Do you know {fact_q_lower}?"),
            _t("money", QUE, "Work it out: {money_q}?"),
            _t("money_q", QUE, "Roughly {money_q}?"),
            _t("steps", IMP, "Walk me through how to {howto}, step by step."),
            _t("ideas", IMP, "Give me {ideas}."),
            _t("ideas_q", QUE, "Any good {ideas}?"),
            _t("wondering", QUE, "I was wondering {explain_what}, any idea?"),
        ),
        "numbers_asked": (
            _t("num", QUE, "{num_q}?"),
            _t("num_tell", IMP, "Tell me {num_q_lower}."),
            _t("num_answer", QUE, "{num_q}? Only the answer."),
            _t("num_show", QUE, "{num_q}? Show your working."),
            _t("num_mind", QUE, "Without a calculator, {num_q_lower}?"),
            _t("num_kid", QUE, "My kid asked me {num_q_lower} and I don't know. Do you?"),
            _t("num_check", QUE, "I got 42 for this, is that right? {num_q}?"),
            _t("num_quiz", QUE, "Quiz question: {num_q_lower}?"),
            _t("num_estimate", QUE, "Ballpark, {num_q_lower}?"),
            _t("money_num", QUE, "Do the maths: {money_q}?"),
        ),
        "code_more": (
            _t("lang_task", IMP, "Write a {code_lang} script that {code_job}."),
            _t("lang_function", IMP, "Give me a {code_lang} function that {code_job}."),
            _t("thing", IMP, "Write {code_thing}."),
            _t("thing_how", QUE, "How would I build {code_thing}?"),
            _t("debug", QUE, "My {code_lang} program crashes with {code_problem}; what's wrong?"),
            _t("convert", IMP, "Convert this {code_lang} snippet to Python: for i in range(10): print(i)"),
            _t("review", IMP, "Review my {code_lang} code that {code_job} and make it faster."),
            _t("explain_code", IMP, "Explain what {code_problem} means in {code_lang}."),
            _t("test", IMP, "Write unit tests in {code_lang} for a function that {code_job}."),
            _t("pseudo", IMP, "Write pseudocode that {code_job}."),
            _t("which_lang", QUE, "Should I use {code_lang} for {code_thing}?"),
            _t("one_liner", QUE, "What's the {code_lang} one-liner that {code_job}?"),
        ),
        "writing_more": (
            _t("doc", IMP, "Write {doc}."),
            _t("doc_style", IMP, "Write {doc} {doc_style}."),
            _t("doc_help", QUE, "Could we draft {doc} together?"),
            _t("doc_edit", IMP, "Improve my draft of {doc}."),
            _t("doc_ideas", QUE, "What should I put in {doc}?"),
            _t("idea_gen", IMP, "Brainstorm {ideas}."),
            _t("idea_list", IMP, "List ten {ideas}."),
            _t("doc_short", IMP, "Draft {doc}, short and sweet."),
            _t("doc_tone", IMP, "Make {doc} {doc_style}."),
            _t("doc_start", QUE, "How do I start {doc}?"),
            _t("idea_pick", QUE, "Which of your {ideas} is best?"),
        ),
    }
)

MORE_CONTRAST_TEMPLATES: tuple[Template, ...] = (
    _t("device_text", IMP, "Make a shortcut that {device_text_task}."),
    _t("device_text_share", IMP, "When I share something, run a shortcut that {device_text_task}."),
    _t("device_text_bare", IMP, "A shortcut that {device_text_task}"),
    _t("device_ask", IMP, "Build a shortcut that {device_ask}."),
    _t("device_ask_q", QUE, "Is there a way to get a shortcut that {device_ask}?"),
    _t("device_ask_bare", IMP, "Something on my phone that {device_ask}."),
    _t("device_write", IMP, "Create a shortcut that {device_write}."),
    _t("device_write_when", IMP, "When {trigger}, run something that {device_write}."),
    _t("device_write_3p", IMP, "{person_3p} wants a shortcut that {device_write}."),
    _t("device_text_tap", IMP, "One tap on the home screen that {device_text_task}."),
    _t("device_ask_siri", IMP, "Set it up so saying 'log it' {device_ask}."),
    _t("device_write_every", IMP, "Every morning at {time}, {device_write_base}."),
)

MORE_SLOTS: MappingProxyType = MappingProxyType(
    {
        "news": _NEWS,
        "news_cap": tuple(n[0].upper() + n[1:] for n in _NEWS),
        "about_you": _ABOUT_YOU,
        "about_you_cap": tuple(a[0].upper() + a[1:] for a in _ABOUT_YOU),
        "game": _GAMES,
        "chat_topic": _TOPICS_CHAT,
        "pasted_more": _PASTED_MORE,
        "paste_task": _PASTE_TASKS,
        "paste_question": _PASTE_QUESTIONS,
        "howto": _HOWTO,
        "explain_what": _EXPLAIN_WHAT,
        "buy": _BUY,
        "fact_q": _FACTS_Q,
        "fact_q_lower": tuple(f[0].lower() + f[1:] for f in _FACTS_Q),
        "money_q": _MONEY_Q,
        "num_q": _NUM_Q,
        "num_q_lower": tuple(q[0].lower() + q[1:] for q in _NUM_Q),
        "code_lang": _LANGS_CODE,
        "code_job": _CODE_TASKS,
        "code_thing": _CODE_THINGS,
        "code_problem": _CODE_PROBLEMS,
        "doc": _DOCS,
        "doc_style": _DOC_STYLES,
        "ideas": _IDEAS,
        "shared_thing": _SHARED_THINGS,
        "device_text_task": _DEVICE_TEXT_TASKS,
        "device_ask": _DEVICE_ASKS,
        "device_write": _DEVICE_WRITES,
        # "creates a new note ..." -> "create a new note ..." (after "Every morning at 7 am, ")
        "device_write_base": tuple(
            w.split(" ", 1)[0].removesuffix("s").replace("copie", "copy") + " " + w.split(" ", 1)[1]
            for w in _DEVICE_WRITES
        ),
    }
)
