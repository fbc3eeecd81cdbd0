"""Intent templates, one module per domain. `ALL_TEMPLATES` lists them in a fixed order."""

from __future__ import annotations

from sashimi.data.synth.domains import (
    apps,
    calendar,
    clipboard,
    dates,
    device,
    files,
    health,
    location,
    messaging,
    music,
    notes,
    photos,
    timers,
    web,
)
from sashimi.data.synth.templates import IntentTemplate

MODULES = (
    health,
    timers,
    calendar,
    notes,
    clipboard,
    web,
    files,
    photos,
    music,
    device,
    messaging,
    location,
    apps,
    dates,
)

ALL_TEMPLATES: tuple[IntentTemplate, ...] = tuple(t for m in MODULES for t in m.TEMPLATES)
DOMAINS: tuple[str, ...] = tuple(dict.fromkeys(t.domain for t in ALL_TEMPLATES))
