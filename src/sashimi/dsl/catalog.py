"""Action catalog: what actions exist, their parameters, and how names resolve (shortcutdsl.md §3.2, §8.2, §8.3).

One `Catalog` type, two sources:
- `Catalog.core()`: our own curated core catalog shipped in the package (sashimi/dsl/core_catalog/).
- `Catalog.from_reference(dir)`: the reference format (`action_catalog.json` + `param_schemas.json`),
  read by path, never copied into the project.
`Catalog.load(dir_or_None)` picks one (None -> core).

INTERFACE CONTRACT (other modules rely on exactly these names):

    ParamSpec(name, type, enum, handle_wrap, accepts_input, description)
    ActionSpec(identifier, short_name, title, output_name, params, input_param, category, description, aliases)
    Catalog.core() / Catalog.from_reference(path) / Catalog.load(path | None)
    catalog.resolve(name) -> str | None            # §3.2 steps 1-4, None = unknown action
    catalog.get(identifier) -> ActionSpec | None   # by full identifier
    catalog.canonical_name(identifier) -> str      # DSL spelling: suffix for is.workflow.actions.*, else full id
    catalog.handle_wrap(identifier, param) -> str  # "attachment" | "token_string" | "variable_ref" (default attachment)
    catalog.output_name(identifier) -> str         # Apple output name table > catalog title > "Result"
    catalog.known_params(identifier) -> frozenset[str] | None   # None: catalog lists none
    catalog.enum_values(identifier, param) -> tuple[str, ...] | None   # closed set, None if open/unknown
    catalog.is_known_vendor(name) -> bool          # §6.1 tier 3 prefixes
    catalog.identifiers -> tuple[str, ...]
    catalog.short_names -> Mapping[str, str]       # short name / alias -> identifier (canonical_map), read-only
    catalog.suggest(name, cutoff=0.6, n=5) -> list[tuple[str, float]]  # fuzzy candidates (for the linter)

Compatible additions: `Catalog.from_yaml(dir)` (a directory in the core YAML format; `core()` is this
on the packaged data), `catalog.actions` (all ActionSpecs), `catalog.by_category()`, `catalog.source`,
`ActionSpec.param(name)`, `len(catalog)`, `identifier in catalog`, `ParamSpec.units`.

Field meanings:
- `ParamSpec.type` is one of `TYPES`; `enum` is the closed value set (only when `type == "enum"`).
- `ParamSpec.handle_wrap` is how a reference placed in the parameter is wrapped (§3.4).
- `ParamSpec.accepts_input`: the parameter can hold a reference (handle, variable, action output)
  rather than only a literal. Reference source: the schema's `accepts_variable`.
- `ActionSpec.input_param`: the parameter that receives the previous action's output (Apple's
  "input" of the action), or None when the action takes no input.
- `ActionSpec.params` is an ordered tuple; `known_params` is what the validator accepts.

Decisions (documented because other modules depend on them):
- Reference `known_params` are exactly the `observed_params` keys (None when the action has none), so
  `unknown_param` never fires on train (§6.2). Core `known_params` are the YAML params plus `UUID`
  and `CustomOutputName`, which any action may carry (§3.1, §3.3.4).
- Enum values are only ever closed sets we know from Apple (our core YAML). The reference's
  `param_observed_values` are samples from ~300 files, not closed sets (e.g. `downloadurl`
  `WFHTTPMethod` was only ever observed as `POST`), so they are never used as enums. A reference
  catalog takes a param's type and enum from the core catalog where the core knows the same
  (identifier, param); otherwise the type comes from the schema's `primary_type`.
- `handle_wrap` in a reference catalog comes from `param_schemas.json` only (null/missing ->
  "attachment", §3.4). In the core catalog a text param defaults to "token_string" and any other
  type to "attachment", with explicit overrides in the YAML.
- Output name (§3.3.4): `CustomOutputName` is the compiler's business; then `output_names.OUTPUT_NAMES`;
  then the title, except for the four actions whose reference titles are swapped; then "Result".
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from sashimi.dsl.output_names import OUTPUT_NAMES, SWAPPED_TITLES
from sashimi.errors import CatalogError, Location

APPLE_PREFIX = "is.workflow.actions."

TYPES = frozenset(
    {
        "text",  # free text; may contain interpolations
        "number",
        "bool",
        "enum",  # closed set of strings (ParamSpec.enum)
        "dict",
        "list",
        "quantity",  # QTY(magnitude, unit)
        "date",
        "variable",  # a reference to some content (WFTextTokenAttachment)
        "app",  # an app selection dict
        "file",
        "contact",
        "filter",  # a content-predicate filter (WFContentPredicateTableTemplate)
        "any",
    }
)
WRAPS = frozenset({"attachment", "token_string", "variable_ref"})

# Domains used by the synthetic generator and the experiments to group actions.
CATEGORIES = (
    "health",
    "timers_alarms",
    "calendar_reminders",
    "notes_text",
    "clipboard",
    "web_api",
    "files",
    "photos_media",
    "music_playback",
    "device_settings",
    "messaging_mail",
    "location_maps",
    "lists_dicts",
    "scripting",
    "dates",
    "control_flow",
)

# Params any action may carry (an explicit UUID, §3.1; CustomOutputName, §3.3.4).
GENERIC_PARAMS = frozenset({"UUID", "CustomOutputName"})

# §6.1: vendor prefixes that are known although they occur in no catalog identifier.
FIXED_VENDOR_PREFIXES = (
    "company.thebrowser.",
    "codes.rambo.",
    "dk.simonbs.",
    "fm.overcast.",
    "fyi.lunar.",
    "net.shinyfrog.",
    "ai.perplexity.",
)

# Reference schema `primary_type` -> our type. Unknown observed types map to "any".
_PRIMARY_TYPES = {
    "str": "text",
    "WFTextTokenString": "text",
    "token_string": "text",
    "bool": "bool",
    "int": "number",
    "float": "number",
    "dict": "dict",
    "WFDictionaryFieldValue": "dict",
    "list": "list",
    "WFTextTokenAttachment": "variable",
    "attachment": "variable",
    "WFVariableRef": "variable",
    "WFQuantityFieldValue": "quantity",
    "quantity": "quantity",
    "WFContentPredicateTableTemplate": "filter",
    "serialized_WFContentPredicateTableTemplate": "filter",
    "WFContactFieldValue": "contact",
    "datetime": "date",
}


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    enum: tuple[str, ...] | None = None
    handle_wrap: str = "attachment"
    accepts_input: bool = True
    description: str = ""
    units: tuple[str, ...] | None = None  # valid units of a "quantity" param, when known


@dataclass(frozen=True)
class ActionSpec:
    identifier: str
    short_name: str
    title: str
    output_name: str
    params: tuple[ParamSpec, ...]
    input_param: str | None
    category: str
    description: str = ""
    aliases: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        """The spec of parameter `name`, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None


def canonical_name(identifier: str) -> str:
    """DSL spelling of an identifier: the suffix for Apple built-ins, else the full identifier."""
    if identifier.startswith(APPLE_PREFIX) and len(identifier) > len(APPLE_PREFIX):
        return identifier[len(APPLE_PREFIX) :]
    return identifier


def _vendor_prefix(identifier: str) -> str | None:
    if identifier.startswith("is.workflow."):
        return "is.workflow."
    parts = identifier.split(".")
    if parts[0] == "com" and len(parts) >= 3 and parts[1]:
        return f"com.{parts[1]}."
    return None


def _default_output_name(identifier: str, title: str) -> str:
    """Apple table, then the title (never a swapped one), then "Result" (§3.3.4)."""
    name = OUTPUT_NAMES.get(identifier)
    if name:
        return name
    if title and identifier not in SWAPPED_TITLES:
        return title
    return "Result"


class Catalog:
    """An immutable, queryable set of actions. Build with `core()`, `from_reference()` or `load()`."""

    def __init__(
        self,
        actions: Iterable[ActionSpec],
        canonical_map: Mapping[str, str],
        *,
        known_params: Mapping[str, frozenset[str] | None] | None = None,
        source: str = "custom",
    ) -> None:
        self._actions: dict[str, ActionSpec] = {}
        for spec in actions:
            if spec.identifier in self._actions:
                raise CatalogError(f"duplicate action identifier {spec.identifier!r}")
            self._actions[spec.identifier] = spec
        self._map = MappingProxyType(dict(canonical_map))
        if known_params is None:
            known_params = {
                i: (frozenset(p.name for p in s.params) | GENERIC_PARAMS) for i, s in self._actions.items()
            }
        self._known = dict(known_params)
        self._params = {i: {p.name: p for p in s.params} for i, s in self._actions.items()}
        prefixes = {p for p in map(_vendor_prefix, self._actions) if p}
        self.vendor_prefixes: tuple[str, ...] = tuple(sorted(prefixes)) + tuple(
            p for p in FIXED_VENDOR_PREFIXES if p not in prefixes
        )
        self.source = source
        # Every spelling that resolves through steps 2-3: map keys and canonical names.
        self._spellings = tuple(sorted(set(self._map) | {canonical_name(i) for i in self._actions}))

    # ------------------------------------------------------------------ constructors

    @classmethod
    def core(cls) -> Catalog:
        """Our hand-curated core catalog shipped in the package (cached)."""
        return _load_core()

    @classmethod
    def from_yaml(cls, directory: str | Path) -> Catalog:
        """A catalog from a directory of core-format YAML files (one file per category)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise CatalogError("catalog directory not found", Location(str(directory)))
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise CatalogError("no *.yaml files in catalog directory", Location(str(directory)))
        return _build_core([(str(f), _read_text(f)) for f in files])

    @classmethod
    def from_reference(cls, path: str | Path) -> Catalog:
        """The reference catalog: `action_catalog.json` + `param_schemas.json` in directory `path`
        (or `path` is the action_catalog.json file itself). Parsed once per resolved path."""
        p = Path(path)
        if p.is_file():
            p = p.parent
        return _load_reference(p.resolve())

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalog:
        """None -> the core catalog; a directory with action_catalog.json -> the reference catalog;
        a directory of YAML files -> `from_yaml`."""
        if path is None:
            return cls.core()
        p = Path(path)
        if p.is_dir() and not (p / "action_catalog.json").exists() and any(p.glob("*.yaml")):
            return cls.from_yaml(p)
        return cls.from_reference(p)

    # ------------------------------------------------------------------ queries

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(self._actions)

    @property
    def actions(self) -> tuple[ActionSpec, ...]:
        return tuple(self._actions.values())

    @property
    def short_names(self) -> Mapping[str, str]:
        """Short name / alias -> full identifier (the reference's `canonical_map`). Read-only."""
        return self._map

    def __len__(self) -> int:
        return len(self._actions)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._actions

    def __repr__(self) -> str:
        return f"Catalog(source={self.source!r}, actions={len(self)})"

    def resolve(self, name: str) -> str | None:
        """§3.2: the identifier an action name denotes, or None (unknown action). Order matters."""
        if name.startswith(APPLE_PREFIX):  # 1. fully qualified built-in, unchanged
            return name
        mapped = self._map.get(name)  # 2. canonical_map (e.g. `sirikit.donation.handle`)
        if mapped is not None:
            return mapped
        if APPLE_PREFIX + name in self._actions:  # 3. suffix of a known built-in
            return APPLE_PREFIX + name
        if name.count(".") >= 2:  # 4. app intent / third-party identifier, passed through
            return name
        return None  # 5. unknown

    def get(self, identifier: str) -> ActionSpec | None:
        return self._actions.get(identifier)

    def canonical_name(self, identifier: str) -> str:
        return canonical_name(identifier)

    def handle_wrap(self, identifier: str, param: str) -> str:
        spec = self._params.get(identifier, {}).get(param)
        return spec.handle_wrap if spec is not None else "attachment"

    def output_name(self, identifier: str) -> str:
        spec = self._actions.get(identifier)
        if spec is not None:
            return spec.output_name
        return _default_output_name(identifier, "")

    def known_params(self, identifier: str) -> frozenset[str] | None:
        return self._known.get(identifier)

    def enum_values(self, identifier: str, param: str) -> tuple[str, ...] | None:
        spec = self._params.get(identifier, {}).get(param)
        return spec.enum if spec is not None and spec.type == "enum" else None

    def is_known_vendor(self, name: str) -> bool:
        return name.startswith(self.vendor_prefixes)

    def by_category(self) -> dict[str, tuple[str, ...]]:
        """Category -> identifiers, in catalog order."""
        out: dict[str, list[str]] = {}
        for spec in self._actions.values():
            out.setdefault(spec.category, []).append(spec.identifier)
        return {k: tuple(v) for k, v in out.items()}

    def suggest(self, name: str, cutoff: float = 0.6, n: int = 5) -> list[tuple[str, float]]:
        """Up to `n` spellings that resolve in this catalog and look like `name` (case-insensitive
        difflib ratio >= cutoff), best first. For the linter's action-name repair."""
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(name.lower())  # seq2 is the side difflib caches
        scored: list[tuple[str, float]] = []
        for cand in self._spellings:
            matcher.set_seq1(cand.lower())
            if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
                continue
            score = matcher.ratio()
            if score >= cutoff:
                scored.append((cand, round(score, 4)))
        scored.sort(key=lambda t: (-t[1], t[0]))
        return scored[:n]


# ---------------------------------------------------------------------- file reading


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError("catalog file not found", Location(str(path))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read catalog file: {exc}", Location(str(path))) from None


def _read_json(path: Path) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"malformed JSON: {exc.msg}", Location(str(path), exc.lineno, exc.colno)) from None


# libyaml's parser when PyYAML was built with it: the same safe constructor, and the 16 core catalog
# files load in ~0.1 s instead of ~0.6 s (measured), a third of a cold `sashimi generate`'s model load
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):
    """A safe loader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_yaml(file: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        raise CatalogError(f"malformed YAML: {exc.problem or exc.context}", loc) from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"malformed YAML: {exc}", Location(file)) from None


# ---------------------------------------------------------------------- core (YAML) catalog

_ACTION_KEYS = frozenset({"id", "title", "description", "aliases", "input", "params"})
_PARAM_KEYS = frozenset({"type", "values", "wrap", "refs", "desc", "units"})


def _build_core(files: list[tuple[str, str]]) -> Catalog:
    """Parse core-format YAML texts into a Catalog, checking every entry (errors name file + action)."""
    specs: list[ActionSpec] = []
    cmap: dict[str, str] = {}
    for file, text in files:
        doc = _read_yaml(file, text)
        if not isinstance(doc, dict) or set(doc) != {"category", "actions"}:
            raise CatalogError("expected a mapping with keys 'category' and 'actions'", Location(file))
        category = doc["category"]
        if category not in CATEGORIES:
            raise CatalogError(f"unknown category {category!r}", Location(file))
        if not isinstance(doc["actions"], list) or not doc["actions"]:
            raise CatalogError("'actions' must be a non-empty list", Location(file))
        for raw in doc["actions"]:
            spec = _core_action(file, category, raw)
            specs.append(spec)
            for key in (spec.short_name, *spec.aliases):
                if key in cmap and cmap[key] != spec.identifier:
                    raise CatalogError(
                        f"{spec.identifier}: name {key!r} already used by {cmap[key]}", Location(file)
                    )
                if key in cmap:
                    raise CatalogError(
                        f"{spec.identifier}: duplicate action or alias {key!r}", Location(file)
                    )
                cmap[key] = spec.identifier
    return Catalog(specs, cmap, source="core")


def _core_action(file: str, category: str, raw: Any) -> ActionSpec:
    def fail(msg: str) -> CatalogError:
        ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
        return CatalogError(f"{ident}: {msg}", Location(file))

    if not isinstance(raw, dict):
        raise fail("action entry must be a mapping")
    if extra := set(raw) - _ACTION_KEYS:
        raise fail(f"unknown keys {sorted(extra)}")
    ident, title = raw.get("id"), raw.get("title")
    if not isinstance(ident, str) or ident.count(".") < 2:
        raise fail("'id' must be a full identifier")
    if not isinstance(title, str) or not title:
        raise fail("'title' is required")
    description = raw.get("description", "")
    aliases = raw.get("aliases", [])
    if not isinstance(description, str) or not isinstance(aliases, list):
        raise fail("'description' must be text and 'aliases' a list")
    if not all(isinstance(a, str) and a and not a.startswith(APPLE_PREFIX) for a in aliases):
        raise fail("aliases must be non-empty short names")
    raw_params = raw.get("params") or {}
    if not isinstance(raw_params, dict):
        raise fail("'params' must be a mapping")
    params = tuple(_core_param(fail, name, p) for name, p in raw_params.items())
    input_param = raw.get("input")
    if input_param is not None and input_param not in raw_params:
        raise fail(f"input {input_param!r} is not one of its params")
    return ActionSpec(
        identifier=ident,
        short_name=canonical_name(ident),
        title=title,
        output_name=_default_output_name(ident, title),
        params=params,
        input_param=input_param,
        category=category,
        description=" ".join(description.split()),
        aliases=tuple(aliases),
    )


def _core_param(fail: Callable[[str], CatalogError], name: Any, raw: Any) -> ParamSpec:
    if not isinstance(name, str) or not name:
        raise fail(f"bad param name {name!r}")
    if isinstance(raw, str):  # short form `Param: type`
        raw = {"type": raw}
    if not isinstance(raw, dict):
        raise fail(f"param {name}: expected a type or a mapping")
    if extra := set(raw) - _PARAM_KEYS:
        raise fail(f"param {name}: unknown keys {sorted(extra)}")
    ptype = raw.get("type")
    if ptype not in TYPES:
        raise fail(f"param {name}: unknown type {ptype!r}")
    values = raw.get("values")
    if ptype == "enum":
        # Values must be strings: YAML 1.1 turns unquoted On/Off/Yes/No into booleans.
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise fail(f"param {name}: enum needs a non-empty list of string values")
        if len(set(values)) != len(values):
            raise fail(f"param {name}: duplicate enum values")
    elif values is not None:
        raise fail(f"param {name}: 'values' only applies to enums")
    wrap = raw.get("wrap", "token_string" if ptype == "text" else "attachment")
    if wrap not in WRAPS:
        raise fail(f"param {name}: unknown wrap {wrap!r}")
    refs = raw.get("refs", ptype not in ("enum", "bool"))
    units = raw.get("units")
    if units is not None and (ptype != "quantity" or not isinstance(units, list) or not units):
        raise fail(f"param {name}: 'units' must be a non-empty list on a quantity param")
    if not isinstance(refs, bool) or not isinstance(raw.get("desc", ""), str):
        raise fail(f"param {name}: 'refs' must be a boolean and 'desc' text")
    return ParamSpec(
        name=name,
        type=ptype,
        enum=tuple(values) if values else None,
        handle_wrap=wrap,
        accepts_input=refs,
        description=" ".join(raw.get("desc", "").split()),
        units=tuple(str(u) for u in units) if units else None,
    )


@functools.lru_cache(maxsize=1)
def _load_core() -> Catalog:
    root = resources.files("sashimi.dsl") / "core_catalog"
    files = sorted((e for e in root.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    if not files:
        raise CatalogError("the packaged core catalog has no YAML files", Location(str(root)))
    return _build_core([(str(f), f.read_text(encoding="utf-8")) for f in files])


# ---------------------------------------------------------------------- reference catalog


def _expect(cond: bool, msg: str, path: Path) -> None:
    if not cond:
        raise CatalogError(msg, Location(str(path)))


@functools.lru_cache(maxsize=8)
def _load_reference(directory: Path) -> Catalog:
    cat_path = directory / "action_catalog.json"
    schema_path = directory / "param_schemas.json"
    doc = _read_json(cat_path)
    schemas = _read_json(schema_path)
    _expect(
        isinstance(doc, dict) and isinstance(doc.get("actions"), dict),
        "expected an 'actions' object",
        cat_path,
    )
    meta = doc.get("_meta", {})
    _expect(isinstance(meta, dict), "'_meta' must be an object", cat_path)
    cmap = meta.get("canonical_map", {})
    _expect(
        isinstance(cmap, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in cmap.items()),
        "'_meta.canonical_map' must map names to identifiers",
        cat_path,
    )
    _expect(isinstance(schemas, dict), "expected an object of per-action schemas", schema_path)

    core = _load_core()
    aliases: dict[str, list[str]] = {}
    for key, ident in cmap.items():
        aliases.setdefault(ident, []).append(key)

    specs: list[ActionSpec] = []
    known: dict[str, frozenset[str] | None] = {}
    for ident, entry in doc["actions"].items():
        _expect(isinstance(entry, dict), f"{ident}: action entry must be an object", cat_path)
        observed = entry.get("observed_params", {})
        _expect(isinstance(observed, dict), f"{ident}: 'observed_params' must be an object", cat_path)
        schema = schemas.get(ident, {})
        _expect(isinstance(schema, dict), f"{ident}: schema must be an object", schema_path)
        core_spec = core.get(ident)
        params = []
        for pname in list(observed) + [p for p in schema if p not in observed]:
            ps = schema.get(pname, {})
            _expect(isinstance(ps, dict), f"{ident}.{pname}: schema must be an object", schema_path)
            wrap = ps.get("handle_wrap") or "attachment"
            _expect(wrap in WRAPS, f"{ident}.{pname}: unknown handle_wrap {wrap!r}", schema_path)
            core_param = core_spec.param(pname) if core_spec else None
            if core_param is not None:  # our own knowledge: type, closed enum, units, description
                ptype, enum, units, desc = (
                    core_param.type,
                    core_param.enum,
                    core_param.units,
                    core_param.description,
                )
            else:
                ptype = _PRIMARY_TYPES.get(ps.get("primary_type"), "any")
                enum, units, desc = None, None, ""
            params.append(
                ParamSpec(pname, ptype, enum, wrap, bool(ps.get("accepts_variable", False)), desc, units)
            )
        title = entry.get("name") or ""
        _expect(isinstance(title, str), f"{ident}: 'name' must be text", cat_path)
        if ident in SWAPPED_TITLES and core_spec is not None:
            title = core_spec.title  # the reference title belongs to another action (§3.3.4)
        if core_spec is not None:
            input_param = core_spec.input_param if core_spec.input_param in observed else None
            category = core_spec.category
        else:
            input_param = next((p for p in ("WFInput", "Input") if p in observed), None)
            category = (
                "other"
                if ident.startswith(APPLE_PREFIX)
                else ("app_intent" if ident.startswith("com.apple.") else "third_party")
            )
        short = canonical_name(ident)
        specs.append(
            ActionSpec(
                identifier=ident,
                short_name=short,
                title=title,
                output_name=_default_output_name(ident, title),
                params=tuple(params),
                input_param=input_param,
                category=category,
                description=" ".join(str(entry.get("description", "")).split()),
                aliases=tuple(sorted(a for a in aliases.get(ident, ()) if a != short)),
            )
        )
        known[ident] = frozenset(observed) if observed else None
    return Catalog(specs, cmap, known_params=known, source="reference")
