"""The OOD prompt set for the domain gate (plan Phase 0.4, architecture.md §5).

Rows are `{prompt, label, category, template_id}` with label "in_domain" or "ood":

- **in-domain**: prompts of our synthetic corpus (`sashimi.data.synth`), plus real training prompts
  when a corpus file is given (read at run time, never stored in the project);
- **out-of-domain**: written by us — templates and slot fillers in `sashimi.data.ood_templates`,
  ten categories (general knowledge, math/science, non-Shortcuts coding, philosophy, creative
  writing, and five adversarial near-domain ones: Android/Tasker, SwiftUI/iOS app code,
  IFTTT/Zapier-style automation, Windows/PowerShell, questions about iOS); and, from
  `sashimi.data.ood_templates_broad` (issue 16), six more: chat/advice, web development, devops
  (CI/CD, build files, cron, infrastructure, monitoring), smart-home configuration, calculations and
  homework asked as questions, translation and summaries of a text given in the request. In-domain
  contrast prompts come in several registers (terse, third-person, rambling, "could a shortcut ...?").

After the filler layer a **register layer** (`apply_registers`) lower-cases, drops the final
punctuation of, or puts one typo into prompts at the same rates in both classes.

**No lexical artefact.** A gate must not be able to separate the classes by politeness or filler
words. Base prompts of the two classes use such words at different rates (the synthetic generator
may say "please", real prompts never do, our templates avoid them), so a *shared filler layer*
wraps prompts of both classes with the same frames ("Hey, …", "Can you …?", "…, please.") and picks,
per class, exactly how many prompts get each filler so that the final per-filler rate is the same
target in both classes. `filler_rates` measures the result; `build_ood_set` refuses to return a set
whose per-filler or overall rates differ by more than `MAX_RATE_GAP_POINTS` between the classes.

`template_id` names the base template (OOD: `ood/<category>/<template>`; synthetic:
`synth/<intents>`; real: `real/<shortcut family>`), so the gate can be evaluated on templates it
never saw in training.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from sashimi.data.ood_templates import CATEGORY_TEMPLATES as _FIRST_CATEGORIES
from sashimi.data.ood_templates import CONTRAST_TEMPLATES, PAIRED_SLOTS, Template
from sashimi.data.ood_templates import SLOTS as _FIRST_SLOTS
from sashimi.data.ood_templates_broad import BROAD_CATEGORY_TEMPLATES, BROAD_SLOTS, REGISTER_TEMPLATES
from sashimi.data.ood_templates_more import MORE_CATEGORY_TEMPLATES, MORE_CONTRAST_TEMPLATES, MORE_SLOTS
from sashimi.data.synth import generate_corpus
from sashimi.dsl.corpus import load_corpus
from sashimi.errors import DataError, Location
from sashimi.io import read_jsonl

# Issue 5's categories and issue 16's broader ones (chat/advice, web, devops, smart-home configuration,
# calculations/homework, translation/summaries), one namespace of templates and one of slots.
# The third batch (`ood_templates_more`) is opt-in (`more_templates=True`, `sashimi data ood
# --more-templates`): without it a seed gives the same set as before the batch existed.
CATEGORY_TEMPLATES = {**_FIRST_CATEGORIES, **BROAD_CATEGORY_TEMPLATES}
MORE_CATEGORIES = {**CATEGORY_TEMPLATES, **MORE_CATEGORY_TEMPLATES}
SLOTS = {**_FIRST_SLOTS, **BROAD_SLOTS, **MORE_SLOTS}
if len(MORE_CATEGORIES) != len(_FIRST_CATEGORIES) + len(BROAD_CATEGORY_TEMPLATES) + len(
    MORE_CATEGORY_TEMPLATES
) or len(SLOTS) != len(_FIRST_SLOTS) + len(BROAD_SLOTS) + len(MORE_SLOTS):
    raise RuntimeError("the template batches share a category or slot name")

IN_DOMAIN, OOD = "in_domain", "ood"
LABELS = (IN_DOMAIN, OOD)
MAX_RATE_GAP_POINTS = 5.0
MIN_PER_CATEGORY = 50
CONTRAST_SHARE = 4  # one in-domain prompt in this many is an own contrast or register prompt


@dataclass(frozen=True)
class OODRow:
    prompt: str
    label: str  # "in_domain" | "ood"
    category: str
    template_id: str

    def to_json(self) -> dict:
        return {
            "prompt": self.prompt,
            "label": self.label,
            "category": self.category,
            "template_id": self.template_id,
        }


@dataclass(frozen=True)
class BasePrompt:
    """A prompt before the filler layer, with what the layer needs to know about its shape."""

    text: str
    label: str
    category: str
    template_id: str
    mode: str  # "imperative" | "question" | "statement"


# ------------------------------------------------------------------------------- OOD templates


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def expand_template(template: Template) -> list[str]:
    """Every filled-in variant of a template (cartesian product of its slot lists, pairs jointly)."""
    names = list(dict.fromkeys(_fields(template.text)))
    choices: list[list[dict[str, str]]] = []
    consumed: set[str] = set()
    for pair, source in PAIRED_SLOTS.items():
        if all(n in names for n in pair):
            choices.append([dict(zip(pair, values, strict=True)) for values in SLOTS[source]])
            consumed.update(pair)
    for name in names:
        if name in consumed:
            continue
        if name not in SLOTS:
            raise DataError(f"template {template.template_id!r} uses unknown slot {name!r}")
        choices.append([{name: value} for value in SLOTS[name]])
    out = []
    for combo in product(*choices):
        fill: dict[str, str] = {}
        for part in combo:
            fill.update(part)
        text = template.text.format(**fill)
        # a slot value may itself hold slots ("timer {minutes} min"): expand those too
        out.extend(
            expand_template(Template(template.template_id, template.mode, text)) if _fields(text) else [text]
        )
    return out


def ood_base_prompts(
    per_category: int, seed: int, exclude: Iterable[str] = (), *, more_templates: bool = False
) -> list[BasePrompt]:
    """`per_category` distinct OOD prompts per category, spread round-robin over its templates."""
    excluded = {_norm(p) for p in exclude}
    rows: list[BasePrompt] = []
    for category, templates in (MORE_CATEGORIES if more_templates else CATEGORY_TEMPLATES).items():
        rng = random.Random(f"ood:{seed}:{category}")
        pools = []
        for template in templates:
            variants = expand_template(template)
            rng.shuffle(variants)
            pools.append((template, variants))
        rng.shuffle(pools)
        seen: set[str] = set()
        picked: list[BasePrompt] = []
        while len(picked) < per_category and any(v for _, v in pools):
            for template, variants in pools:
                while variants:
                    text = variants.pop()
                    key = _norm(text)
                    if key in seen or key in excluded:
                        continue
                    seen.add(key)
                    picked.append(
                        BasePrompt(
                            text, OOD, category, f"ood/{category}/{template.template_id}", template.mode
                        )
                    )
                    break
                if len(picked) >= per_category:
                    break
        if len(picked) < per_category:
            raise DataError(
                f"category {category!r} has only {len(picked)} distinct prompts (< {per_category}); "
                f"use --per-category {len(picked)} or less, or add templates to sashimi.data.ood_templates"
            )
        rows.extend(picked)
    return rows


# ------------------------------------------------------------------------------- in-domain prompts


def contrast_prompts(n: int, seed: int, *, more_templates: bool = False) -> list[BasePrompt]:
    """`n` distinct in-domain contrast prompts (ours: DO-on-iOS requests, in the registers of
    `REGISTER_TEMPLATES` too: terse, third-person, rambling, "could a shortcut ...?"), round-robin over
    templates."""
    rng = random.Random(f"contrast:{seed}")
    pools = []
    contrast = CONTRAST_TEMPLATES + (MORE_CONTRAST_TEMPLATES if more_templates else ())
    for template, kind in [(t, "contrast") for t in contrast] + [(t, "register") for t in REGISTER_TEMPLATES]:
        variants = expand_template(template)
        rng.shuffle(variants)
        pools.append((template, kind, variants))
    rng.shuffle(pools)
    picked: list[BasePrompt] = []
    seen: set[str] = set()
    while len(picked) < n and any(v for _, _, v in pools):
        for template, kind, variants in pools:
            while variants and len(picked) < n:
                text = variants.pop()
                if _norm(text) in seen:
                    continue
                seen.add(_norm(text))
                tid = f"own/{kind}/{template.template_id}"
                # mode from the text: "Every night at 9 pm, turn on ..." is not verb-initial
                picked.append(BasePrompt(text, IN_DOMAIN, kind, tid, prompt_mode(text)))
                break
    if len(picked) < n:
        raise DataError(f"contrast templates give only {len(picked)} distinct prompts (< {n})")
    return picked


# Verbs a request can start with; used to decide whether "Can you <prompt>?" reads naturally.
_IMPERATIVE_VERBS = frozenset(
    """add adjust ask block book build calculate call change check clear close combine compose convert
    copy count create delete describe derive design disable download enable explain find fix get give
    go invent launch list log make mark move mute note open outline pause play post prove read record
    remind rename resize review rotate run save scan schedule search send set share show shuffle skip
    solve start stop switch take tell text toggle track translate turn unmute update upload use write""".split()
)


def prompt_mode(text: str) -> str:
    stripped = text.strip()
    if stripped.endswith("?"):
        return "question"
    first = stripped.split(maxsplit=1)[0].lower() if stripped else ""
    return "imperative" if first.strip(",.:;!") in _IMPERATIVE_VERBS else "statement"


def synthetic_prompts(n: int, seed: int) -> list[BasePrompt]:
    """`n` distinct prompts of the synthetic corpus (sashimi.data.synth), all splits pooled."""
    corpus = generate_corpus(max(2 * n, 200), seed)
    pool: dict[str, BasePrompt] = {}
    for split in sorted(corpus):
        for example in corpus[split]:
            text = example.row.prompt.strip()
            key = _norm(text)
            if not text or key in pool:
                continue
            template = getattr(example, "template_id", None) or "+".join(sorted(example.intents)) or "none"
            pool[key] = BasePrompt(text, IN_DOMAIN, "synthetic", f"synth/{template}", prompt_mode(text))
    prompts = [pool[k] for k in sorted(pool)]
    random.Random(f"synth-pick:{seed}").shuffle(prompts)
    if len(prompts) < n:
        raise DataError(f"synthetic corpus produced only {len(prompts)} distinct prompts (< {n})")
    return prompts[:n]


_FAMILY_SUFFIX = re.compile(r"-\d+$")


def real_prompts(data: str | Path, n: int, seed: int) -> list[BasePrompt]:
    """Up to `n` distinct prompts of a ShortcutForge-format corpus file, read at run time."""
    pool: dict[str, BasePrompt] = {}
    for row in load_corpus(data):
        text = " ".join(row.prompt.split())  # real prompts may span lines; the gate sees one line
        key = _norm(text)
        if not text or key in pool:
            continue
        family = _FAMILY_SUFFIX.sub("", row.shortcut_id)
        pool[key] = BasePrompt(text, IN_DOMAIN, "real_train", f"real/{family}", prompt_mode(text))
    prompts = [pool[k] for k in sorted(pool)]
    random.Random(f"real-pick:{seed}").shuffle(prompts)
    return prompts[:n]


# ------------------------------------------------------------------------------- filler layer


@dataclass(frozen=True)
class Filler:
    """One filler phrase and the frames that add it. Each frame contains exactly this one filler.

    `universal` frames wrap any prompt (`{s}` = the whole prompt, first word de-capitalised);
    `imperative` frames need a verb-initial prompt (`{v}` = the prompt without final punctuation);
    `suffix` frames add the filler at the end (`{b}` = prompt without final punctuation, `{p}` = it).
    """

    name: str
    default_rate: float
    universal: tuple[str, ...] = ()
    imperative: tuple[str, ...] = ()
    suffix: tuple[str, ...] = ()
    pattern: re.Pattern = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        words = r"\s+".join(re.escape(w) for w in self.name.split())
        extra = r"|\bthank\s+you\b" if self.name == "thanks" else ""
        extra += r"|^\s*siri\b" if self.name == "hey siri" else ""
        # "Hey Siri" is its own filler, not the greeting "hey"
        not_siri = r"(?!\s*,?\s*siri\b)" if self.name == "hey" else ""
        object.__setattr__(self, "pattern", re.compile(rf"\b{words}\b{not_siri}{extra}", re.IGNORECASE))

    def present(self, text: str) -> bool:
        return bool(self.pattern.search(text))


FILLERS: tuple[Filler, ...] = (
    Filler(
        "please",
        0.12,
        universal=("Please help with this: {s}",),
        imperative=("Please {v}.",),
        suffix=("{b}, please{p}",),
    ),
    Filler("can you", 0.08, universal=("Can you do this? {S}",), imperative=("Can you {v}?",)),
    Filler(
        "could you", 0.05, universal=("Could you take care of this? {S}",), imperative=("Could you {v}?",)
    ),
    Filler("would you", 0.02, universal=("Would you help with this? {S}",), imperative=("Would you {v}?",)),
    Filler("hey", 0.06, universal=("Hey, {s}", "Hey there, {s}", "Hey! {S}")),
    # issue 16: the voice-assistant address and the request shapes people add around any request
    Filler("hey siri", 0.06, universal=("Hey Siri, {s}", "Hey Siri {s}", "Siri, {s}")),
    Filler("for me", 0.04, suffix=("{b} for me{p}",)),
    Filler("right now", 0.03, suffix=("{b} right now{p}", "{b}, right now{p}")),
    Filler("i need you to", 0.03, imperative=("I need you to {v}.",)),
    Filler("hi", 0.03, universal=("Hi, {s}", "Hi! {S}")),
    Filler("ok", 0.03, universal=("Ok so {s}", "OK, {s}")),
    Filler(
        "i want to", 0.05, universal=("I want to ask you something. {S}",), imperative=("I want to {v}.",)
    ),
    Filler(
        "i need to", 0.04, universal=("I need to sort something out. {S}",), imperative=("I need to {v}.",)
    ),
    Filler("help me", 0.03, universal=("Help me with this one: {s}",), imperative=("Help me {v}.",)),
    Filler("quickly", 0.03, universal=("Quickly: {s}",), imperative=("Quickly {v}.",)),
    Filler("just", 0.03, universal=("Just one thing: {s}",), imperative=("Just {v}.",)),
    Filler("kindly", 0.01, imperative=("Kindly {v}.",), suffix=("{b}{p} Kindly answer.",)),
    Filler("pls", 0.01, imperative=("Pls {v}.",), suffix=("{b} pls{p}",)),
    Filler("thanks", 0.05, suffix=("{b}{p} Thanks!", "{b}{p} Thanks in advance.", "{b}{p} Thank you!")),
    Filler("cheers", 0.01, suffix=("{b}, cheers{p}", "{b}{p} Cheers!")),
)

# A prompt that already opens with one of these has no free prefix slot.
_OPENERS = re.compile(
    r"^\s*(please|can you|could you|would you|hey|siri|hi|ok|i want to|i need to|i need you to|help me|quickly|just"
    r"|kindly|pls)\b",
    re.I,
)
_FINAL_PUNCT = re.compile(r"[.!?]+$")


def decap(text: str) -> str:
    """Lower-case the first word when it is an ordinary capitalised word ('What' yes; 'I', 'iPhone', 'SwiftUI' no)."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    core = first.rstrip(",.:;!?")
    if len(core) > 1 and core[0].isupper() and core[1:].islower() and core.isalpha():
        return text[0].lower() + text[1:]
    return text


def split_final_punct(text: str) -> tuple[str, str]:
    text = text.rstrip()
    match = _FINAL_PUNCT.search(text)
    if not match:
        return text, "."
    return text[: match.start()], match.group()


def _apply_prefix(frame: str, text: str) -> str:
    body, _ = split_final_punct(text)
    return frame.format(s=decap(text), S=text, v=decap(body))


def _apply_suffix(frame: str, text: str) -> str:
    body, punct = split_final_punct(text)
    return frame.format(b=body, p=punct)


@dataclass
class _Slot:
    text: str
    mode: str
    prefix_free: bool
    suffix_free: bool


def _options(filler: Filler, slot: _Slot) -> list[tuple[str, str]]:
    """(kind, frame) pairs usable on this prompt now."""
    opts: list[tuple[str, str]] = []
    if slot.prefix_free:
        opts += [("prefix", f) for f in filler.universal]
        if slot.mode == "imperative":
            opts += [("prefix", f) for f in filler.imperative]
    if slot.suffix_free:
        opts += [("suffix", f) for f in filler.suffix]
    return opts


def filler_targets(classes: dict[str, Sequence[str]]) -> dict[str, float]:
    """Per filler: the rate both classes are brought to (its default, or the highest base rate)."""
    targets = {}
    for filler in FILLERS:
        base = [sum(filler.present(t) for t in texts) / max(len(texts), 1) for texts in classes.values()]
        targets[filler.name] = max([filler.default_rate, *base])
    return targets


def apply_fillers(
    prompts: list[BasePrompt], targets: dict[str, float], seed: int, target_any: float | None = None
) -> list[str]:
    """Wrap prompts of one class so that each filler reaches its target rate; returns the new texts.

    Which prompts receive a filler also decides the overall rate (share of prompts with at least one
    filler): spreading fillers over bare prompts raises it, stacking them on prompts that already
    have one keeps it. With `target_any`, bare prompts are preferred only until that overall rate
    is reached, so the other class's overall rate can be matched as well as each filler's.
    """
    slots = [_Slot(p.text, p.mode, prefix_free=not _OPENERS.match(p.text), suffix_free=True) for p in prompts]
    n = len(slots)
    has_any = [any(f.present(s.text) for f in FILLERS) for s in slots]
    for filler in FILLERS:
        rng = random.Random(f"filler:{seed}:{filler.name}")
        need = round(targets[filler.name] * n) - sum(filler.present(s.text) for s in slots)
        order = list(range(n))
        rng.shuffle(order)
        while need > 0:
            bare_first = target_any is None or sum(has_any) < round(target_any * n)
            eligible = [i for i in order if not filler.present(slots[i].text) and _options(filler, slots[i])]
            if not eligible:
                break  # no free slot left: the measured rate will show the shortfall
            preferred = [i for i in eligible if has_any[i] != bare_first]
            i = (preferred or eligible)[0]
            order.remove(i)
            slot = slots[i]
            opts = _options(filler, slot)
            kind, frame = opts[rng.randrange(len(opts))]
            if kind == "prefix":
                new = _apply_prefix(frame, slot.text)
                slot.prefix_free = False
            else:
                new = _apply_suffix(frame, slot.text)
                slot.suffix_free = False
            # A frame must add exactly its own filler, never a second one by accident.
            if any(f.present(new) != f.present(slot.text) for f in FILLERS if f is not filler):
                raise RuntimeError(f"filler frame {frame!r} adds a second filler to {slot.text!r}")
            slot.text = new
            has_any[i] = True
            need -= 1
    return [s.text for s in slots]


def filler_rates(texts: Sequence[str]) -> dict[str, float]:
    """Percentage of prompts containing each filler, plus `any` (at least one), one decimal."""
    n = max(len(texts), 1)
    rates = {f.name: round(100.0 * sum(f.present(t) for t in texts) / n, 1) for f in FILLERS}
    rates["any"] = round(100.0 * sum(any(f.present(t) for f in FILLERS) for t in texts) / n, 1)
    return rates


def filler_balance(rows: Sequence[OODRow]) -> dict:
    """Per-class filler rates and the per-filler gap between the classes, in percentage points."""
    by_label = {label: [r.prompt for r in rows if r.label == label] for label in LABELS}
    rates = {label: filler_rates(texts) for label, texts in by_label.items()}
    gaps = {k: round(abs(rates[IN_DOMAIN][k] - rates[OOD][k]), 1) for k in rates[IN_DOMAIN]}
    return {"rates": rates, "gap_points": gaps, "max_gap_points": max(gaps.values())}


# ------------------------------------------------------------------------------- register layer

# How people type, applied at the same rates to both classes after the filler layer (issue 16): all
# lower case, no final punctuation, one typo (two adjacent letters swapped in a word of 5+ letters that
# is not a filler word). Equal rates keep these from becoming a class cue; their presence teaches the
# gate that a lower-case or misspelt request means the same as a tidy one.
REGISTER_RATES = {"lower": 0.15, "no_final_punct": 0.15, "typo": 0.10}
_FILLER_WORDS = frozenset("please could would thanks thank quickly kindly cheers".split())
_TYPO_WORD = re.compile(r"\b[a-zA-Z]{5,}\b")


def one_typo(text: str, rng: random.Random) -> str:
    """`text` with two adjacent letters swapped in one word of 5+ letters (not a filler word)."""
    words = [m for m in _TYPO_WORD.finditer(text) if m.group().lower() not in _FILLER_WORDS]
    if not words:
        return text
    m = words[rng.randrange(len(words))]
    w = m.group()
    i = rng.randrange(1, len(w) - 2)  # keep the first and last letters
    return text[: m.start()] + w[:i] + w[i + 1] + w[i] + w[i + 2 :] + text[m.end() :]


def apply_registers(texts: Sequence[str], seed: int) -> list[str]:
    """Each rewrite of REGISTER_RATES applied to each prompt independently with its rate (seeded)."""
    rng = random.Random(f"register:{seed}")
    out = []
    for text in texts:
        if rng.random() < REGISTER_RATES["lower"]:
            text = text.lower()
        if rng.random() < REGISTER_RATES["no_final_punct"]:
            text = _FINAL_PUNCT.sub("", text.rstrip())
        if rng.random() < REGISTER_RATES["typo"]:
            text = one_typo(text, rng)
        out.append(text)
    return out


# ------------------------------------------------------------------------------- the whole set


@dataclass(frozen=True)
class OODSet:
    rows: tuple[OODRow, ...]
    report: dict


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def build_ood_set(
    *,
    seed: int = 0,
    per_category: int = 60,
    in_domain: int = 600,
    data: str | Path | None = None,
    progress: bool = False,
    more_templates: bool = False,
    typo_copies: int = 0,
) -> OODSet:
    """Build the labelled prompt set. In-domain: one prompt in CONTRAST_SHARE is an own contrast prompt
    (DO-on-iOS, `own/contrast/...`); with `data`, half come from the real corpus (as many as it has);
    the rest come from the synthetic corpus. `more_templates` adds the third template batch (its OOD
    categories and in-domain twins); `typo_copies` adds that many one-typo copies of every row."""
    if per_category < 1 or in_domain < 1:
        raise DataError("per_category and in_domain must be positive")
    if typo_copies < 0:
        raise DataError(f"typo copies must be 0 or more (got {typo_copies})")
    real = real_prompts(data, in_domain // 2, seed) if data is not None else []
    contrast = contrast_prompts(in_domain // CONTRAST_SHARE, seed, more_templates=more_templates)
    synth = synthetic_prompts(in_domain - len(real) - len(contrast), seed)
    inside = synth + contrast + real
    ood = ood_base_prompts(
        per_category, seed, exclude=(p.text for p in inside), more_templates=more_templates
    )
    if progress:
        print(f"base prompts: {len(inside)} in-domain ({len(real)} real), {len(ood)} out-of-domain")

    targets = filler_targets({IN_DOMAIN: [p.text for p in inside], OOD: [p.text for p in ood]})
    # In-domain first (fillers spread over bare prompts); then OOD aims at its overall rate too.
    in_texts = apply_fillers(inside, targets, seed=hash_label(seed, IN_DOMAIN))
    in_any = sum(any(f.present(t) for f in FILLERS) for t in in_texts) / max(len(in_texts), 1)
    ood_texts = apply_fillers(ood, targets, seed=hash_label(seed, OOD), target_any=in_any)
    in_texts = apply_registers(in_texts, hash_label(seed, IN_DOMAIN))
    ood_texts = apply_registers(ood_texts, hash_label(seed, OOD))
    rows = [OODRow(t, IN_DOMAIN, p.category, p.template_id) for t, p in zip(in_texts, inside, strict=True)]
    rows += [OODRow(t, OOD, p.category, p.template_id) for t, p in zip(ood_texts, ood, strict=True)]
    rows += typo_copy_rows(rows, typo_copies, seed)
    random.Random(f"order:{seed}").shuffle(rows)

    # Sanity: after the filler layer no OOD prompt may coincide with an in-domain prompt.
    in_keys = {_norm(r.prompt) for r in rows if r.label == IN_DOMAIN} | {_norm(p.text) for p in inside}
    clashes = [r.prompt for r in rows if r.label == OOD and _norm(r.prompt) in in_keys]
    if clashes:
        raise DataError(f"{len(clashes)} OOD prompts equal in-domain prompts, e.g. {clashes[0]!r}")

    balance = filler_balance(rows)
    report = {
        "counts": {
            "label": dict(sorted(Counter(r.label for r in rows).items())),
            "category": dict(sorted(Counter(f"{r.label}/{r.category}" for r in rows).items())),
        },
        "templates": {
            "ood_distinct": len({r.template_id for r in rows if r.label == OOD}),
            "in_domain_distinct": len({r.template_id for r in rows if r.label == IN_DOMAIN}),
            "ood_per_category": dict(
                sorted(
                    Counter(
                        cat for cat, _ in {(r.category, r.template_id) for r in rows if r.label == OOD}
                    ).items()
                )
            ),
        },
        "filler_targets_percent": {k: round(100 * v, 1) for k, v in targets.items()},
        "filler_base_rates": {
            IN_DOMAIN: filler_rates([p.text for p in inside]),
            OOD: filler_rates([p.text for p in ood]),
        },
        "filler": balance,
    }
    if balance["max_gap_points"] > MAX_RATE_GAP_POINTS:
        raise DataError(
            f"filler rates differ by {balance['max_gap_points']} points between classes "
            f"(> {MAX_RATE_GAP_POINTS}); see {balance['gap_points']}"
        )
    return OODSet(tuple(rows), report)


def typo_copy_rows(rows: Sequence[OODRow], copies: int, seed: int) -> list[OODRow]:
    """Up to `copies` extra rows per row, each the prompt with one typo (`one_typo`, seeded) and the same
    label, category and template id (so template-grouped folds keep a prompt and its copies together).
    A copy equal to its prompt or to an earlier copy (no word of 5+ letters to misspell) is skipped."""
    if copies < 0:
        raise DataError("typo_copies must be 0 or more")
    rng = random.Random(f"typo-copies:{seed}")
    out: list[OODRow] = []
    for row in rows:
        seen = {row.prompt}
        for _ in range(copies):
            text = one_typo(row.prompt, rng)
            if text not in seen:
                seen.add(text)
                out.append(OODRow(text, row.label, row.category, row.template_id))
    return out


def hash_label(seed: int, label: str) -> int:
    """A per-class sub-seed that does not depend on Python's randomised `hash`."""
    return seed * 1000 + LABELS.index(label)


def load_ood_set(path: str | Path) -> list[OODRow]:
    """Read an OOD set written by `sashimi data ood`, checking every row's shape."""
    rows = []
    for i, obj in enumerate(read_jsonl(path), start=1):
        try:
            row = OODRow(str(obj["prompt"]), str(obj["label"]), str(obj["category"]), str(obj["template_id"]))
        except KeyError as err:
            raise DataError(f"row lacks key {err}", Location(str(path), i)) from None
        if row.label not in LABELS:
            raise DataError(f"label must be one of {LABELS}, got {row.label!r}", Location(str(path), i))
        rows.append(row)
    return rows
