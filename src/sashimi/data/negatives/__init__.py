"""The hard-negative bank (plan Phase 0.3, architecture.md §5): `(prompt, positive, negative)` triples.

Every triple pairs a corpus program (the positive) with a corrupted version of it (the negative), both
as typed IR (`sashimi.ir.typed`), plus the error tags that say what is wrong. Two sources:

**linter** — the program is corrupted *as text* the way our linter repairs model output
(shortcutdsl.md §5.2): hallucinated action aliases (taken from the linter's own table,
`sashimi.dsl.repair_tables`), misspelt action names, condition synonyms, property access such as
`@prev.name`, a truncated last line, unclosed blocks, an orphan ELSE, a block keyword written as an
action, plus optional IR-neutral noise (markdown fence, preamble, lower-case closer, a bare `ACTION`
line, no final newline). The corrupted text is kept in `negative_text`. Its tags are the change kinds
the linter reports when run on it; a triple whose intended repair the linter does not report is
dropped (tags are verified, not assumed).

  Which IR stands for the corrupted text? What the linter turns it back into is (for most lexical
  errors) the positive itself, so it cannot be the negative. We use the **reading** of the text:
  - `literal` — lexical errors (alias, misspelling, condition synonym, property access, truncated
    tail) are kept in the IR exactly as written: the action keeps its wrong name (`A:getcontentsofurl`
    in typed IR), the IF keeps the synonym as its condition word, the handle keeps its property
    (`@prev.name`). Where the text parses as written, this is exactly `parse(text)`;
  - `lint` — structural errors have no literal IR (an unclosed IF does not parse), so the negative is
    what the linter makes of the text: `parse(lint(text))`. These are kept only where that reading
    differs from the positive, i.e. where the repair is lossy (an ENDIF restored at the end of the
    program swallows the statements that followed the block; a removed orphan ELSE leaves its branch
    unconditional; `ACTION repeat.each` becomes `FOREACH @prev`, `ACTION repeat.count` `REPEAT 1`).
  `lint_restores` records whether linting the text gives the positive back.

  Consequence for typed-IR consumers: a literal reading may hold tokens outside the typed-IR
  vocabulary (`A:getcontentsofurl`, a synonym such as `is_empty` in the condition position, a handle
  with a property such as `@prev.name`); a model maps them to `<UNK>`. Synonyms and property access
  are not even lowerable to a ShortcutIR; `lowerable` says which negatives are. Models that emit
  DSL text (the typed-IR-vs-text ablation) use `negative_text`, which is exactly the corrupted text.

**synthetic** — corruptions of the IR itself, printed canonically (`negative_text`): similar-action
swap (same namespace, close name), structural corruption (a dropped or early end marker, ELSE turned
into ENDIF, swapped branches, dropped ELSE, duplicated CASE), enum mutation (another legal value of a
closed enum, a flipped boolean, a confusable condition word), parameter drop, wrong handle.

Every negative differs from its positive in IR and in its Tier 1/2 typed-IR tokens (checked; dropped
otherwise), so a margin loss over the structural tokens always has positions to work on. Where
the negative is still a strict-valid program (printable and no strict validation errors) its tags
include `still_valid`: such negatives are wrong, not malformed, and only fidelity can catch them.

Deterministic: every random choice comes from a generator seeded by (seed, shortcut id, slot), so a
program's negatives do not depend on which other programs are in the file.

Modules: `common` (the triple, tags, IR navigation, per-program context), `linter_source`,
`synthetic_source`, `bank` (checks and assembly: `build_bank`, `bank_report`).
"""

from sashimi.data.negatives.bank import (
    BankStats,
    bank_report,
    build_bank,
    negatives_for_program,
    strict_valid,
)
from sashimi.data.negatives.common import (
    LINTER,
    SOURCES,
    STILL_VALID,
    SYNTHETIC,
    TAG_ACTION_SWAP,
    TAG_CONDITION,
    TAG_ENUM,
    TAG_HANDLE,
    TAG_PARAM_DROP,
    TAG_STRUCTURE,
    NegativeTriple,
)

__all__ = [
    "LINTER",
    "SOURCES",
    "STILL_VALID",
    "SYNTHETIC",
    "TAG_ACTION_SWAP",
    "TAG_CONDITION",
    "TAG_ENUM",
    "TAG_HANDLE",
    "TAG_PARAM_DROP",
    "TAG_STRUCTURE",
    "BankStats",
    "NegativeTriple",
    "bank_report",
    "build_bank",
    "negatives_for_program",
    "strict_valid",
]
