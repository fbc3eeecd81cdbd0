"""The one error type the toolchain raises for bad input.

Every failure caused by untrusted input (DSL text, `.shortcut` files, JSONL rows, prompts,
checkpoints) is a `SashimiError` with a location, so the CLI can print exactly one line
`file:line:col: message` and exit non-zero, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where an error happened. `line` and `col` are 1-based; either may be unknown (None)."""

    file: str = "<input>"
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class SashimiError(Exception):
    """Base class of every error about bad input. `str(err)` is a single line."""

    def __init__(self, message: str, location: Location | None = None):
        self.message = " ".join(str(message).split())  # one line, always
        self.location = location or Location()
        super().__init__(f"{self.location}: {self.message}")

    def with_file(self, file: str) -> SashimiError:
        """Return a copy of this error located in `file` (keeps line/col)."""
        loc = Location(file, self.location.line, self.location.col)
        return type(self)(self.message, loc)


class DSLSyntaxError(SashimiError):
    """The text is not ShortcutDSL (parser)."""


class ValidationError(SashimiError):
    """A program is syntactically fine but not valid against the catalog."""


class CompileError(SashimiError):
    """The compiler could not produce a plist for a program."""


class DecompileError(SashimiError):
    """A `.shortcut` file is malformed, truncated, or not a Shortcuts plist."""


class CatalogError(SashimiError):
    """A catalog file is missing or malformed."""


class DataError(SashimiError):
    """A data file (JSONL, config, checkpoint) is missing or malformed."""
