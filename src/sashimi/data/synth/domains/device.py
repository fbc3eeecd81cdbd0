"""Device settings: radios, display, power, focus, battery."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show

MODES = V.choice((("dark", "dark"), ("light", "light")))


def _toggle(id_, title, action, noun, terse, param="OnValue"):
    return intent(
        id_,
        title,
        slots={"state": V.on_off},
        phrasings=[
            f"I: Turn {noun} {{state}}",
            f"Q: Can you switch {noun} {{state}}?",
            f"C: {noun} {{state}} real quick",
            f"T: {terse} {{state}}",
            f"P: Please set {noun} to {{state}}.",
        ],
        clauses=[f"turn {noun} {{state}}", f"switch {noun} {{state}}"],
        build=lambda v: (act(action, **{param: v["state"].value}),),
    )


TEMPLATES = (
    intent(
        "device.brightness",
        "Set Brightness",
        slots={"level": V.percent(5, 100)},
        phrasings=[
            "I: Set the screen brightness to {level}",
            "Q: Could you dim the display to {level}?",
            "C: brightness {level}, my eyes hurt",
            "T: brightness {level}",
            "D: Changes the display brightness to {level}.",
        ],
        clauses=["set brightness to {level}", "dim the screen to {level}"],
        build=lambda v: (act("setbrightness", WFBrightness=v["level"].value),),
    ),
    _toggle("device.low_power", "Low Power Mode", "lowpowermode.set", "Low Power Mode", "battery saver"),
    _toggle("device.wifi", "Wi-Fi", "wifi.set", "Wi-Fi", "wlan"),
    _toggle("device.bluetooth", "Bluetooth", "bluetooth.set", "Bluetooth", "bt"),
    _toggle("device.airplane", "Airplane Mode", "airplanemode.set", "airplane mode", "flight mode"),
    _toggle("device.cellular", "Cellular Data", "cellulardata.set", "mobile data", "cell data"),
    intent(
        "device.appearance",
        "Appearance",
        slots={"mode": MODES},
        phrasings=[
            "I: Switch to {mode} mode",
            "Q: Can you set the appearance to {mode}?",
            "C: {mode} mode please, now",
            "T: {mode} mode",
            "D: Sets the system appearance to {mode} mode.",
        ],
        clauses=["switch to {mode} mode", "set the appearance to {mode}"],
        build=lambda v: (act("appearance", operation="set", style=v["mode"].value),),
    ),
    intent(
        "device.dnd_until",
        "Do Not Disturb",
        slots={"time": V.clock_time},
        phrasings=[
            "I: Turn on Do Not Disturb until {time}",
            "Q: Can you silence my phone until {time}?",
            "C: no notifications till {time} ok",
            "T: dnd until {time}",
            "D: Enables Do Not Disturb until {time}.",
        ],
        clauses=["turn on Do Not Disturb until {time}", "silence notifications until {time}"],
        build=lambda v: (act("dnd.set", Enabled=True, AssertionType="Time", Time=v["time"].value),),
    ),
    intent(
        "device.battery",
        "Battery Level",
        slots={},
        phrasings=[
            "I: Show my battery percentage",
            "Q: How much battery do I have left?",
            "C: battery check?",
            "T: battery %",
            "D: Gets the battery level and shows it as a percentage.",
        ],
        clauses=["show my battery level", "tell me the battery percentage"],
        build=lambda v: (act("getbatterylevel"), show("Battery: ", PREV, "%")),
    ),
    intent(
        "device.flashlight",
        "Flashlight",
        slots={"state": V.choice((("on", "On"), ("off", "Off")))},
        phrasings=[
            "I: Turn the flashlight {state}",
            "Q: Could you switch the torch {state}?",
            "C: flashlight {state}, it's dark",
            "T: torch {state}",
            "P: Would you mind switching the light on my phone {state}?",
        ],
        clauses=["turn the flashlight {state}", "switch the torch {state}"],
        build=lambda v: (act("flashlight", WFFlashlightSetting=v["state"].value),),
    ),
    _toggle("device.night_shift", "Night Shift", "nightshift.set", "Night Shift", "warm screen"),
    _toggle("device.rotation_lock", "Rotation Lock", "orientationlock.set", "rotation lock", "portrait lock"),
    _toggle("device.hotspot", "Hotspot", "personalhotspot.set", "the personal hotspot", "tethering"),
    intent(
        "device.vibrate",
        "Vibrate",
        slots={},
        phrasings=[
            "I: Vibrate my phone",
            "Q: Can you make the phone buzz?",
            "C: buzz",
            "T: vibrate",
            "D: Makes the device vibrate once.",
        ],
        clauses=["vibrate the phone", "make the phone buzz"],
        build=lambda v: (act("vibrate"),),
        tags=("repeatable",),
    ),
)
