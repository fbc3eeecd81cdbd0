"""Location and maps: directions, travel time, weather, where am I."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, interp, show

MODES = V.choice(
    (("driving", "Driving"), ("walking", "Walking"), ("by transit", "Transit"), ("by bike", "Biking"))
)
DEST = V.pooled(V.PLACES + V.CITIES)
FORECAST = V.choice((("daily", "Daily"), ("hourly", "Hourly")))
NOTE = "com.apple.mobilenotes.SharingExtension"

TEMPLATES = (
    intent(
        "location.directions",
        "Directions",
        slots={"dest": DEST, "mode": MODES},
        phrasings=[
            "I: Give me {mode} directions to {dest}",
            "Q: How do I get to {dest} {mode}?",
            "C: take me to {dest}, {mode}",
            "T: directions {dest} {mode}",
            "D: Shows {mode} directions to {dest} in Maps.",
        ],
        clauses=["get {mode} directions to {dest}", "show me the way to {dest} {mode}"],
        build=lambda v: (
            act("getdirections", WFDestination=v["dest"].value, WFGetDirectionsActionMode=v["mode"].value),
        ),
    ),
    intent(
        "location.search_maps",
        "Find on Map",
        slots={"dest": DEST},
        phrasings=[
            "I: Show {dest} on the map",
            "Q: Where is {dest}? Show me in Maps",
            "C: find {dest} on maps",
            "T: map {dest}",
            "P: Please search Maps for {dest}.",
        ],
        clauses=["show {dest} in Maps", "find {dest} on the map"],
        build=lambda v: (act("searchmaps", WFInput=v["dest"].value),),
    ),
    intent(
        "location.where_am_i",
        "Where Am I",
        slots={},
        phrasings=[
            "I: Show my current address",
            "Q: Where am I right now?",
            "C: where am i lol",
            "T: current location",
            "D: Gets your current location and shows the street address.",
        ],
        clauses=["show my current address", "tell me where I am"],
        build=lambda v: (act("getcurrentlocation"), show(PREV)),
    ),
    intent(
        "location.weather_now",
        "Current Weather",
        slots={},
        phrasings=[
            "I: Tell me the current weather",
            "Q: What's the weather like right now?",
            "C: is it nice out? weather pls",
            "T: weather now",
            "D: Gets the current weather conditions for your location and shows them.",
        ],
        clauses=["show the current weather", "tell me the weather"],
        build=lambda v: (act("weather.currentconditions"), show(PREV)),
    ),
    intent(
        "location.forecast",
        "Forecast",
        slots={"city": V.CITY, "kind": FORECAST},
        phrasings=[
            "I: Show the {kind} forecast for {city}",
            "Q: What's the {kind} weather forecast in {city}?",
            "C: {city} weather, {kind} forecast",
            "T: forecast {city} {kind}",
            "D: Gets the {kind} weather forecast for {city} and displays it.",
        ],
        clauses=["show the {kind} forecast for {city}", "get the {kind} weather for {city}"],
        build=lambda v: (
            act(
                "weather.forecast",
                WFWeatherCustomLocation=v["city"].value,
                WFWeatherForecastType=v["kind"].value,
            ),
            show(PREV),
        ),
    ),
    intent(
        "location.travel_time",
        "Travel Time",
        slots={"dest": DEST, "mode": MODES},
        phrasings=[
            "I: Tell me how long it takes to get to {dest} {mode}",
            "Q: How far away is {dest} {mode}?",
            "C: eta to {dest} {mode}?",
            "T: travel time {dest} {mode}",
            "D: Estimates the {mode} travel time to {dest} and shows it.",
        ],
        clauses=["check the travel time to {dest} {mode}", "tell me how long to {dest} {mode}"],
        build=lambda v: (
            act("gettraveltime", WFDestination=v["dest"].value, WFGetDirectionsActionMode=v["mode"].value),
            show(PREV, " to ", v["dest"].value),
        ),
    ),
    intent(
        "location.save_parking",
        "Parking Spot",
        slots={},
        phrasings=[
            "I: Remember where I parked by saving my location to a note",
            "Q: Can you note down my current location so I can find the car?",
            "C: just parked, save this spot",
            "T: save parking location",
            "D: Saves your current address in a new note so you can find your car later.",
        ],
        clauses=["save where I parked", "note my parking spot"],
        build=lambda v: (act("getcurrentlocation"), act(NOTE, WFCreateNoteInput=interp("Parked at ", PREV))),
    ),
    intent(
        "location.send_eta",
        "Send ETA",
        slots={"who": V.PERSON, "dest": DEST},
        phrasings=[
            "I: Text {who} my ETA to {dest}",
            "Q: Could you tell {who} how long until I get to {dest}?",
            "C: send {who} my eta for {dest}",
            "T: eta {dest} -> {who}",
            "D: Works out the driving time to {dest} and texts it to {who}.",
        ],
        clauses=["text {who} my ETA to {dest}", "tell {who} when I'll reach {dest}"],
        build=lambda v: (
            act("gettraveltime", WFDestination=v["dest"].value, WFGetDirectionsActionMode="Driving"),
            act(
                "sendmessage",
                WFSendMessageActionRecipients=v["who"].value,
                WFSendMessageContent=interp("I'll be at ", v["dest"].value, " in ", PREV),
            ),
        ),
    ),
    intent(
        "location.parked_car",
        "Find My Car",
        slots={},
        phrasings=[
            "I: Take me back to where I parked",
            "Q: Where did I leave the car? Give me walking directions",
            "C: lost my car again, walk me there",
            "T: directions to parked car",
            "D: Gets the parked car location and shows walking directions to it.",
        ],
        clauses=["walk me back to my car", "show the way to my parked car"],
        build=lambda v: (
            act("getparkedcarlocation"),
            act("getdirections", WFDestination=PREV, WFGetDirectionsActionMode="Walking"),
        ),
    ),
    intent(
        "location.nearby",
        "Search Nearby",
        slots={
            "what": V.pooled(("coffee", "pharmacy", "gas station", "sushi", "ATM", "bakery", "bike shop")),
            "radius": V.quantity((("km", "km", 1, 20, 1), ("mi", "miles", 1, 10, 1))),
        },
        phrasings=[
            'I: Find "{what}" places within {radius}',
            'Q: Are there any "{what}" spots within {radius} of me?',
            'C: "{what}" near me, {radius} max',
            'T: nearby "{what}" {radius}',
            'D: Searches local businesses matching "{what}" within {radius} and shows them.',
        ],
        clauses=['find "{what}" within {radius}', 'search for "{what}" nearby within {radius}'],
        build=lambda v: (
            act("searchlocalbusinesses", WFSearchQuery=v["what"].value, WFSearchRadius=v["radius"].value),
            show(PREV),
        ),
    ),
)
