"""Balanced Sashimi: natural-language requests to installable Apple Shortcuts."""

__version__ = "0.1.0"
