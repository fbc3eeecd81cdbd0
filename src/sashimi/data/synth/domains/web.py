"""Web APIs and JSON: open sites, call APIs, read values out of JSON, search, articles."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, interp, show
from sashimi.dsl.ast import DictLiteral, IfBlock, StringValue

ENGINES = V.choice(
    (
        ("Google", "Google"),
        ("DuckDuckGo", "DuckDuckGo"),
        ("Bing", "Bing"),
        ("Wikipedia", "Wikipedia"),
        ("YouTube", "YouTube"),
    )
)
METHODS = V.choice((("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH")))


def _post(v):
    body = DictLiteral(((v["key"].value, StringValue(v["text"].value)),))
    return (
        act("url", WFURLActionURL=v["url"].value),
        act("downloadurl", WFHTTPMethod=v["method"].value, WFHTTPBodyType="JSON", WFJSONValues=body),
        show(PREV),
    )


TEMPLATES = (
    intent(
        "web.open_site",
        "Open Website",
        slots={"url": V.site},
        phrasings=[
            "I: Open {url}",
            "Q: Can you take me to {url}?",
            "C: pull up {url} for me",
            "T: go to {url}",
            "D: Opens the web page {url} in the default browser.",
        ],
        clauses=["open {url}", "go to {url}"],
        build=lambda v: (act("url", WFURLActionURL=v["url"].value), act("openurl")),
    ),
    intent(
        "web.json_value",
        "Fetch JSON Value",
        slots={"url": V.api_url, "key": V.JSON_KEY},
        phrasings=[
            'I: Fetch {url} and show me the "{key}" field',
            'Q: Can you call {url} and tell me the value of "{key}" in the JSON?',
            'C: hit {url}, grab "{key}" from the response',
            'T: GET {url} -> "{key}"',
            'D: Downloads JSON from {url}, reads the "{key}" value and displays it.',
        ],
        clauses=['get "{key}" from {url}', 'fetch {url} and show its "{key}" value'],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("downloadurl"),
            act("getvalueforkey", WFInput=PREV, WFDictionaryKey=v["key"].value),
            show(PREV),
        ),
    ),
    intent(
        "web.post_json",
        "Post to API",
        slots={"url": V.api_url, "key": V.JSON_KEY, "text": V.MESSAGE, "method": METHODS},
        phrasings=[
            'I: Send a {method} request to {url} with JSON "{key}" set to {text}',
            'Q: Could you {method} {{"{key}": {text}}} to {url}?',
            'C: {method} to {url}, body "{key}" = {text}',
            "T: {method} {url} {key}={text}",
            'D: Sends a JSON {method} request to {url} whose "{key}" field is {text} and shows the response.',
        ],
        clauses=['{method} "{key}" = {text} to {url}', 'send {text} as "{key}" to {url} with {method}'],
        build=_post,
    ),
    intent(
        "web.search",
        "Web Search",
        slots={"query": V.QUERY, "engine": ENGINES},
        phrasings=[
            'I: Search {engine} for "{query}"',
            'Q: Can you look up "{query}" on {engine}?',
            'C: {engine} "{query}" for me',
            'T: {engine}: "{query}"',
            'P: Please run a {engine} search for "{query}".',
        ],
        clauses=['search {engine} for "{query}"', 'look up "{query}" on {engine}'],
        build=lambda v: (
            act("searchweb", WFSearchWebDestination=v["engine"].value, WFInputText=v["query"].value),
        ),
    ),
    intent(
        "web.read_article",
        "Read Article",
        slots={"url": V.site},
        phrasings=[
            "I: Get the article at {url} and read it to me",
            "Q: Could you read the main story on {url} aloud?",
            "C: read me {url}, reader mode",
            "T: speak article {url}",
            "D: Extracts the article from {url} with Safari Reader and speaks it.",
        ],
        clauses=["read the article at {url} aloud", "speak the story on {url}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("getarticle", WFWebPage=PREV),
            act("speaktext", WFText=PREV),
        ),
    ),
    intent(
        "web.expand_link",
        "Expand Link",
        slots={"url": V.short_link},
        phrasings=[
            "I: Expand the short link {url} and copy the full URL",
            "Q: Where does {url} really go? Copy the long link",
            "C: unshorten {url} and copy it",
            "T: expand {url}",
            "D: Expands the shortened URL {url} and copies the destination to the clipboard.",
        ],
        clauses=["expand {url} and copy it", "unshorten {url}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("url.expand", URL=PREV),
            act("setclipboard"),
        ),
    ),
    intent(
        "web.download_file",
        "Download File",
        slots={"url": V.file_url},
        phrasings=[
            "I: Download {url} and save it to Files",
            "Q: Can you grab the file at {url} and store it?",
            "C: save {url} to my files",
            "T: download {url}",
            "D: Downloads the file at {url} and asks where to save it.",
        ],
        clauses=["download {url}", "save the file at {url}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("downloadurl"),
            act("documentpicker.save", WFInput=PREV),
        ),
    ),
    intent(
        "web.page_text",
        "Web Page Text",
        slots={"url": V.site},
        phrasings=[
            "I: Get the text of {url} and copy it",
            "Q: Can you copy all the text from {url}?",
            "C: scrape {url} into my clipboard",
            "T: copy text of {url}",
            "D: Gets the contents of the web page {url} as text and copies it.",
        ],
        clauses=["copy the text of {url}", "grab the page text from {url}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("getwebpagecontents", WFInput=PREV),
            act("setclipboard"),
        ),
    ),
    intent(
        "web.check_status",
        "Service Status",
        slots={"url": V.api_url, "word": V.pooled(("ok", "up", "healthy", "running", "green"), quote=True)},
        phrasings=[
            "I: Check {url} and tell me whether the response contains {word}",
            "Q: Is {url} returning {word}? Let me know either way",
            "C: ping {url}, if it says {word} all good, otherwise warn me",
            "T: status {url} == {word}?",
            "D: Fetches {url}; if the response contains {word} it says the service is up, otherwise it shows a warning.",
        ],
        clauses=["check whether {url} says {word}", "check {url} for {word}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("downloadurl"),
            IfBlock(
                PREV,
                "contains",
                StringValue(v["word"].value),
                (show("Service is up"),),
                (act("notification", WFNotificationActionBody="Service is down!"),),
            ),
        ),
    ),
    intent(
        "web.qr_code",
        "QR Code",
        slots={"url": V.site},
        phrasings=[
            "I: Make a QR code for {url}",
            "Q: Can you generate a QR code that opens {url}?",
            "C: need a qr for {url}",
            "T: qr {url}",
            "D: Generates a QR code for the link {url} and previews it.",
        ],
        clauses=["make a QR code for {url}", "generate a QR code of {url}"],
        build=lambda v: (
            act("url", WFURLActionURL=v["url"].value),
            act("generatebarcode", WFText=interp(PREV)),
            act("previewdocument"),
        ),
    ),
    intent(
        "web.rss",
        "RSS Headlines",
        slots={
            "feed": V.pooled(
                tuple(
                    f"https://{h}/feed.xml"
                    for h in (
                        "blog.example.com",
                        "news.acme.co",
                        "daringfireball.net",
                        "www.theverge.com",
                        "sixcolors.com",
                    )
                )
            ),
            "count": V.integer(3, 20),
        },
        phrasings=[
            "I: Show the latest {count} items from {feed}",
            "Q: What are the newest {count} posts on {feed}?",
            "C: grab {count} headlines from {feed}",
            "T: rss {feed} x{count}",
            "D: Gets {count} items from the RSS feed {feed} and shows them.",
        ],
        clauses=["show {count} items from {feed}", "get the latest {count} posts from {feed}"],
        build=lambda v: (
            act("rss", WFRSSFeedURL=v["feed"].value, WFRSSItemQuantity=v["count"].value),
            show(PREV),
        ),
    ),
    intent(
        "web.reading_list",
        "Read Later",
        slots={"url": V.site},
        phrasings=[
            "I: Add {url} to my Reading List",
            "Q: Could you save {url} to read later?",
            "C: reading list {url}, later",
            "T: read later {url}",
            "D: Adds the page {url} to the Safari Reading List.",
        ],
        clauses=["add {url} to my Reading List", "save {url} for later"],
        build=lambda v: (act("url", WFURLActionURL=v["url"].value), act("readinglist", WFURL=PREV)),
    ),
    intent(
        "web.ip_address",
        "My IP",
        slots={"kind": V.choice((("public", "External"), ("local", "Local")))},
        phrasings=[
            "I: Show my {kind} IP address",
            "Q: What's my {kind} IP?",
            "C: {kind} ip pls",
            "T: ip {kind}",
            "D: Gets the device's {kind} IP address and shows it.",
        ],
        clauses=["show my {kind} IP address", "tell me my {kind} IP"],
        build=lambda v: (act("getipaddress", WFIPAddressSourceOption=v["kind"].value), show(PREV)),
    ),
)
