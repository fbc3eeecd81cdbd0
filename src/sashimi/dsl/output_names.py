"""Apple's action output names (shortcutdsl.md §3.3.4).

An action-output reference carries an `OutputName`: the label the Shortcuts editor shows on the
magic variable. It is usually *not* the action's title ("Ask for Input" -> "Provided Input",
"Get Contents of URL" -> "Contents of URL"). The compiler uses, in order: the action's
`CustomOutputName` param, this table, the catalog title, then "Result" (see `Catalog.output_name`).

The table is keyed by full identifier. It is seeded with the rows measured in real files (§3.3.4)
and extended with output names as the Shortcuts editor shows them. Only rows we are confident of
belong here: a missing row falls back to the title, which is harmless, while a wrong row renames
the magic variable.
"""

from __future__ import annotations

from types import MappingProxyType

_A = "is.workflow.actions."

# Block end markers: the output of an IF / MENU / REPEAT / FOREACH block (§3.3.3 step 2).
BLOCK_OUTPUT_NAMES = MappingProxyType(
    {
        _A + "conditional": "If Result",
        _A + "choosefrommenu": "Menu Result",
        _A + "repeat.count": "Repeat Results",
        _A + "repeat.each": "Repeat Results",
    }
)

# Actions whose reference-catalog title is swapped with another action's (§3.3.4 "catalog quirk"):
# their title must never be used as an output name, whatever the source of the title.
SWAPPED_TITLES = frozenset(
    {
        _A + "getvalueforkey",
        _A + "detect.dictionary",
        _A + "repeat.count",
        _A + "repeat.each",
    }
)

_ROWS: dict[str, str] = {
    # --- seed rows measured in real files (§3.3.4), most frequent first
    "gettext": "Text",
    "url": "URL",
    "ask": "Provided Input",
    "dictionary": "Dictionary",
    "getvalueforkey": "Dictionary Value",
    "choosefromlist": "Chosen Item",
    "text.split": "Split Text",
    "getitemfromlist": "Item from List",
    "format.date": "Formatted Date",
    "downloadurl": "Contents of URL",
    # --- text
    "text.combine": "Combined Text",
    "text.replace": "Updated Text",
    "text.changecase": "Updated Text",
    "text.trimwhitespace": "Updated Text",
    "text.match": "Matches",
    "text.translate": "Translated Text",
    "detect.text": "Text",
    "detect.number": "Numbers",
    "detect.date": "Dates",
    "detect.link": "URLs",
    "detect.emailaddress": "Email Addresses",
    "detect.phonenumber": "Phone Numbers",
    "detect.dictionary": "Dictionary",
    "count": "Count",
    "getrichtextfromhtml": "Rich Text from HTML",
    "getrichtextfrommarkdown": "Rich Text from Markdown",
    "gethtmlfromrichtext": "HTML from Rich Text",
    "getmarkdownfromrichtext": "Markdown from Rich Text",
    "base64encode": "Base64 Encoded",
    "hash": "Hash",
    "dictatetext": "Dictated Text",
    # --- lists and dictionaries
    "list": "List",
    "setvalueforkey": "Dictionary",
    # --- web
    "url.expand": "Expanded URL",
    "getarticle": "Article",
    "getipaddress": "Current IP Address",
    # --- clipboard
    "getclipboard": "Clipboard",
    # --- numbers and scripting
    "number": "Number",
    "number.random": "Random Number",
    "math": "Calculation Result",
    "round": "Rounded Number",
    "runworkflow": "Shortcut Result",
    "runshellscript": "Shell Script Result",
    "runsshscript": "Shell Script Result",
    "getbatterylevel": "Battery Level",
    "getitemname": "Name",
    "getitemtype": "Type",
    # --- dates
    "date": "Date",
    "adjustdate": "Adjusted Date",
    "gettimebetweendates": "Time Between Dates",
    # --- calendar / reminders / notes
    "addnewevent": "New Event",
    "addnewreminder": "New Reminder",
    "filter.reminders": "Reminders",
    "filter.calendarevents": "Calendar Events",
    # --- files
    "file.select": "File",
    "documentpicker.open": "File",
    "documentpicker.save": "Saved File",
    "makezip": "Archive",
    "unzip": "Files",
    "makepdf": "PDF",
    # --- photos / media
    "takephoto": "Photo",
    "selectphoto": "Photos",
    "getlastphoto": "Latest Photos",
    "getlastscreenshot": "Latest Screenshots",
    "takescreenshot": "Screenshot",
    "image.resize": "Resized Image",
    "image.crop": "Cropped Image",
    "image.convert": "Converted Image",
    "image.combine": "Combined Image",
    "image.rotate": "Rotated Image",
    "image.flip": "Flipped Image",
    "generatebarcode": "QR Code",
    # --- music
    "getcurrentsong": "Current Song",
    # --- location
    "getcurrentlocation": "Current Location",
    "getdistance": "Distance",
    "gettraveltime": "Travel Time",
    "weather.currentconditions": "Weather Conditions",
    "weather.forecast": "Weather Conditions",
    # --- contacts / messaging
    "selectphone": "Phone Number",
    "selectemailaddress": "Email Address",
    # --- health
    "health.quantity.log": "Health Sample",
}

# Full identifier -> Apple output name (read-only).
OUTPUT_NAMES = MappingProxyType({**{_A + k: v for k, v in _ROWS.items()}, **BLOCK_OUTPUT_NAMES})


def apple_output_name(identifier: str) -> str | None:
    """The output name Apple shows for `identifier`'s output, or None when this table has no row."""
    return OUTPUT_NAMES.get(identifier)
