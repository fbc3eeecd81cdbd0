"""Tests for sashimi.dsl.catalog (shortcutdsl.md §3.2, §3.3.4, §3.4, §6.1, §8.2, §8.3).

Tests on the reference catalog read ../shared by path through the conftest fixtures (they skip when
it is absent); everything else uses the packaged core catalog or hand-written YAML/JSON in tmp_path.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from sashimi.dsl.catalog import (
    CATEGORIES,
    FIXED_VENDOR_PREFIXES,
    TYPES,
    WRAPS,
    ActionSpec,
    Catalog,
    ParamSpec,
    canonical_name,
)
from sashimi.dsl.output_names import OUTPUT_NAMES, SWAPPED_TITLES
from sashimi.errors import CatalogError

A = "is.workflow.actions."
ACTION_LINE = re.compile(r"^ACTION (\S+)(.*)$", re.M)
STRING_PARAM = re.compile(r'([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*")')


def _param_keys(rest: str) -> list[str]:
    """Parameter names on the rest of an ACTION line: complete strings are blanked first, and the
    scan stops at a string that continues on the next line (approximate; the parser is elsewhere)."""
    rest = re.sub(r'"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`', '""', rest)
    rest = re.split(r'(?<!")["`](?!")', rest)[0]
    return re.findall(r"(?:^|\s)([A-Za-z_][\w-]*)=", rest)


@pytest.fixture(scope="module")
def ref(shortcutforge_dir: Path) -> Catalog:
    return Catalog.from_reference(shortcutforge_dir)


@pytest.fixture(scope="module")
def core() -> Catalog:
    return Catalog.core()


@pytest.fixture(scope="module")
def raw_reference(shortcutforge_dir: Path) -> tuple[dict, dict]:
    with open(shortcutforge_dir / "action_catalog.json", encoding="utf-8") as fh:
        cat = json.load(fh)
    with open(shortcutforge_dir / "param_schemas.json", encoding="utf-8") as fh:
        schemas = json.load(fh)
    return cat, schemas


@pytest.fixture(scope="module")
def corpus_actions(corpus_targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(action name, rest of the line) for every `ACTION` line of the real targets (regex: the
    parser is another module)."""
    return [(m.group(1), m.group(2)) for _, t in corpus_targets for m in ACTION_LINE.finditer(t)]


# ----------------------------------------------------------------------------- resolution (§3.2)


def _tiny(cmap: dict[str, str]) -> Catalog:
    specs = [
        ActionSpec(
            A + n, n, n.title(), n.title(), (ParamSpec("WFInput", "variable"),), "WFInput", "scripting"
        )
        for n in ("text.split", "gettext", "sirikit.donation.handle")
    ]
    return Catalog(specs, cmap, source="test")


def test_resolution_order_on_a_hand_built_catalog():
    cat = _tiny(
        {
            "sirikit.donation.handle": A + "sirikit.donation.handle",  # two dots, but a map key
            "splittext": A + "text.split",
            A + "typo": A + "gettext",  # map keys that are full ids never win over step 1
            "a.b.c": A + "gettext",
        }
    )
    assert cat.resolve(A + "typo") == A + "typo"  # step 1: unchanged, even though it is a map key
    assert cat.resolve(A + "whatever") == A + "whatever"  # step 1: unchanged, even if unknown
    assert cat.resolve("sirikit.donation.handle") == A + "sirikit.donation.handle"  # step 2
    assert cat.resolve("a.b.c") == A + "gettext"  # step 2 before step 4
    assert cat.resolve("splittext") == A + "text.split"  # step 2
    assert cat.resolve("gettext") == A + "gettext"  # step 3
    assert cat.resolve("com.nobody.Foo.Bar") == "com.nobody.Foo.Bar"  # step 4: passed through
    assert cat.resolve("x.y.z") == "x.y.z"
    assert cat.resolve("nonexist") is None  # step 5
    assert cat.resolve("text.splat") is None  # one dot, unknown: not passed through
    assert cat.get("com.nobody.Foo.Bar") is None


def test_resolution_order_on_the_reference(ref: Catalog, raw_reference):
    cat, _ = raw_reference
    cmap = cat["_meta"]["canonical_map"]
    assert ref.resolve("sirikit.donation.handle") == A + "sirikit.donation.handle"
    assert ref.resolve("text.split") == A + "text.split"
    assert (
        ref.resolve("createalarm") == "com.apple.mobiletimer-framework.MobileTimerIntents.MTCreateAlarmIntent"
    )
    assert ref.resolve("nonexist") is None
    assert ref.resolve("com.nobody.Foo.Bar") == "com.nobody.Foo.Bar"
    assert ref.resolve(A + "not.an.action") == A + "not.an.action"
    # Step 1 wins over step 2: map keys that are full ids (misspellings) are never used.
    full_keys = [k for k, v in cmap.items() if k.startswith(A) and v != k]
    assert full_keys
    for key in full_keys:
        assert ref.resolve(key) == key
    # In the shipped catalog every built-in suffix is also a map key, so step 3 only matters for
    # other catalogs (tested on the hand-built one above); it must agree with step 2 here.
    for ident in cat["actions"]:
        if ident.startswith(A):
            assert ref.resolve(ident[len(A) :]) == ident
    # Every map key (not itself a full built-in id) resolves to its mapped identifier.
    for key, ident in cmap.items():
        if not key.startswith(A):
            assert ref.resolve(key) == ident


def test_every_corpus_action_name_resolves(ref: Catalog, corpus_actions):
    names = {name for name, _ in corpus_actions}
    assert len(names) == 488
    resolved = {name: ref.resolve(name) for name in names}
    unresolved = sorted(n for n, i in resolved.items() if i is None or ref.get(i) is None)
    assert unresolved == []
    assert len(set(resolved.values())) == 488
    # Data rule (§4.1): built-ins are written as suffixes, everything else as full identifiers.
    for name, ident in resolved.items():
        assert ref.canonical_name(ident) == name


def test_canonical_name():
    assert canonical_name(A + "text.split") == "text.split"
    assert canonical_name("com.apple.TVRemoteUIService.WakeAppleTVIntent") == (
        "com.apple.TVRemoteUIService.WakeAppleTVIntent"
    )
    assert canonical_name(A) == A  # no suffix: keep as is


# ----------------------------------------------------------------------------- reference facts


def test_reference_counts(ref: Catalog, raw_reference):
    cat, _ = raw_reference
    assert len(ref) == len(cat["actions"]) == 615  # count `actions`, not the stale _meta.total_actions
    assert dict(ref.short_names) == cat["_meta"]["canonical_map"]
    assert ref.identifiers == tuple(cat["actions"])
    assert ref.source == "reference"


def test_vendor_prefixes(ref: Catalog):
    assert len(ref.vendor_prefixes) == 33  # 26 from the catalog + the fixed list (§6.1)
    assert set(FIXED_VENDOR_PREFIXES) <= set(ref.vendor_prefixes)
    assert {"is.workflow.", "com.apple.", "com.culturedcode."} <= set(ref.vendor_prefixes)
    assert ref.is_known_vendor("codes.rambo.AirBuddyHelper.SomethingNew")
    assert ref.is_known_vendor("com.apple.Unheard.Intent")
    assert ref.is_known_vendor(A + "made.up")
    for name in ("nonexist", "com.nobody.Foo.Bar", "org.x.y.Z", "company.other.X"):
        assert not ref.is_known_vendor(name)


def test_handle_wrap_rules(ref: Catalog, raw_reference):
    _, schemas = raw_reference
    assert ref.handle_wrap(A + "conditional", "WFInput") == "variable_ref"
    assert ref.handle_wrap(A + "gettext", "WFTextActionText") == "token_string"
    assert ref.handle_wrap(A + "setvariable", "WFInput") == "attachment"
    assert ref.handle_wrap(A + "comment", "WFCommentActionText") == "attachment"  # null -> attachment
    assert ref.handle_wrap(A + "gettext", "NoSuchParam") == "attachment"
    assert ref.handle_wrap("com.nobody.Foo.Bar", "X") == "attachment"
    counts = Counter(ref.handle_wrap(i, p) for i, ps in schemas.items() for p in ps)
    raw = Counter(v.get("handle_wrap") for ps in schemas.values() for v in ps.values())
    assert counts["token_string"] == raw["token_string"]
    assert counts["variable_ref"] == raw["variable_ref"] == 1
    assert counts["attachment"] == raw["attachment"] + raw[None]


def test_known_params_are_the_observed_params(ref: Catalog, raw_reference, corpus_actions):
    cat, _ = raw_reference
    for ident, entry in cat["actions"].items():
        observed = entry["observed_params"]
        assert ref.known_params(ident) == (frozenset(observed) if observed else None)
    assert ref.known_params("com.nobody.Foo.Bar") is None
    # §6.2: `unknown_param` never fires on train.
    for name, rest in corpus_actions:
        known = ref.known_params(ref.resolve(name))
        for key in _param_keys(rest):
            assert known is not None and key in known, (name, key)


def test_reference_enums_are_closed_sets_from_core_knowledge(ref: Catalog, raw_reference):
    cat, _ = raw_reference
    # Observed values of WFHTTPMethod are only ["POST"]: observations, not the closed set.
    assert cat["actions"][A + "downloadurl"]["param_observed_values"]["WFHTTPMethod"] == ["POST"]
    assert ref.enum_values(A + "downloadurl", "WFHTTPMethod") == ("GET", "POST", "PUT", "PATCH", "DELETE")
    # Observed values of a free-text param never become an enum.
    assert ref.enum_values(A + "alert", "WFAlertActionTitle") is None
    assert ref.get(A + "alert").param("WFAlertActionTitle").type == "text"
    assert ref.enum_values("com.nobody.Foo.Bar", "X") is None
    # Every enum of the reference catalog comes from the core catalog.
    core = Catalog.core()
    for spec in ref.actions:
        for p in spec.params:
            if p.enum is not None:
                assert core.enum_values(spec.identifier, p.name) == p.enum


# ----------------------------------------------------------------------------- output names (§3.3.4)


def test_output_name_seed_rows():
    seed = {
        "gettext": "Text",
        "url": "URL",
        "ask": "Provided Input",
        "conditional": "If Result",
        "dictionary": "Dictionary",
        "getvalueforkey": "Dictionary Value",
        "choosefrommenu": "Menu Result",
        "choosefromlist": "Chosen Item",
        "text.split": "Split Text",
        "getitemfromlist": "Item from List",
        "repeat.count": "Repeat Results",
        "repeat.each": "Repeat Results",
        "format.date": "Formatted Date",
        "downloadurl": "Contents of URL",
    }
    for short, name in seed.items():
        assert OUTPUT_NAMES[A + short] == name


def test_output_name_swapped_titles(ref: Catalog, raw_reference):
    cat, _ = raw_reference
    titles = {i: cat["actions"][i]["name"] for i in SWAPPED_TITLES}
    assert titles[A + "getvalueforkey"] == "Get Dictionary from Input"  # the quirk is still there
    assert ref.output_name(A + "getvalueforkey") == "Dictionary Value"
    assert ref.output_name(A + "detect.dictionary") == "Dictionary"
    assert ref.output_name(A + "repeat.count") == "Repeat Results"
    assert ref.output_name(A + "repeat.each") == "Repeat Results"
    for ident, title in titles.items():
        assert ref.output_name(ident) != title
        assert ref.get(ident).title != title  # corrected from the core catalog
    assert ref.output_name("com.nobody.Foo.Bar") == "Result"
    # Without a table row the title is used.
    ident = "com.apple.TVRemoteUIService.WakeAppleTVIntent"
    assert ident not in OUTPUT_NAMES
    assert ref.output_name(ident) == cat["actions"][ident]["name"]


def test_swapped_titles_never_used_even_without_a_table_row(monkeypatch):
    from sashimi.dsl import catalog as mod

    assert Catalog([], {}).output_name(A + "getvalueforkey") == "Dictionary Value"
    assert mod._default_output_name("x.y.z", "Some Title") == "Some Title"
    assert mod._default_output_name("x.y.z", "") == "Result"
    # Even if the table lost its row, a swapped identifier never falls back to its (wrong) title.
    table = {k: v for k, v in OUTPUT_NAMES.items() if k != A + "getvalueforkey"}
    monkeypatch.setattr(mod, "OUTPUT_NAMES", table)
    assert mod._default_output_name(A + "getvalueforkey", "Get Dictionary from Input") == "Result"


# ----------------------------------------------------------------------------- core catalog


def test_core_catalog_size_and_uniqueness(core: Catalog):
    assert len(core) >= 150
    assert len(set(core.identifiers)) == len(core.identifiers)
    shorts = [s.short_name for s in core.actions]
    assert len(set(shorts)) == len(shorts)
    keys = Counter(k for s in core.actions for k in (s.short_name, *s.aliases))
    assert [k for k, n in keys.items() if n > 1] == []
    assert core.source == "core"
    assert Catalog.load(None) is core
    assert Catalog.core() is core  # cached


def test_core_catalog_entries_are_well_formed(core: Catalog):
    for spec in core.actions:
        where = spec.identifier
        assert spec.short_name == canonical_name(spec.identifier), where
        assert core.resolve(spec.short_name) == spec.identifier, where
        for alias in spec.aliases:
            assert core.resolve(alias) == spec.identifier, (where, alias)
        assert spec.title and spec.description and spec.output_name, where
        assert spec.category in CATEGORIES, where
        names = [p.name for p in spec.params]
        assert len(set(names)) == len(names), where
        assert spec.input_param is None or spec.input_param in names, where
        for p in spec.params:
            assert p.type in TYPES, (where, p.name)
            assert p.handle_wrap in WRAPS, (where, p.name)
            if p.type == "enum":
                assert p.enum and all(isinstance(v, str) and v for v in p.enum), (where, p.name)
                assert len(set(p.enum)) == len(p.enum), (where, p.name)
                assert core.enum_values(spec.identifier, p.name) == p.enum
            else:
                assert p.enum is None and core.enum_values(spec.identifier, p.name) is None
            if p.units is not None:
                assert p.type == "quantity", (where, p.name)
        assert core.known_params(spec.identifier) == frozenset(names) | {"UUID", "CustomOutputName"}


def test_core_covers_every_category_and_the_key_actions(core: Catalog):
    by_cat = core.by_category()
    assert set(by_cat) == set(CATEGORIES)
    for short in (
        "gettext text.split text.combine text.replace text.match text.changecase count detect.text "
        "list getitemfromlist choosefromlist dictionary getvalueforkey setvalueforkey detect.dictionary "
        "url openurl downloadurl urlencode url.expand getwebpagecontents getclipboard setclipboard "
        "notification alert showresult speaktext ask choosefrommenu setvariable appendvariable getvariable "
        "date format.date adjustdate gettimebetweendates timer.start health.quantity.log addnewevent "
        "addnewreminder filter.reminders file.select documentpicker.save file.getfoldercontents takephoto "
        "selectphoto getlastphoto savetocameraroll image.resize playmusic pausemusic skipforward "
        "setplaybackdestination wifi.set bluetooth.set dnd.set setbrightness setvolume lowpowermode.set "
        "airplanemode.set appearance getcurrentlocation getdirections sendmessage sendemail comment "
        "runworkflow output exit nothing delay openapp runshellscript runsshscript math number "
        "number.random conditional repeat.count repeat.each"
    ).split():
        assert core.get(A + short) is not None, short
    assert (
        core.resolve("createalarm")
        == "com.apple.mobiletimer-framework.MobileTimerIntents.MTCreateAlarmIntent"
    )
    assert core.enum_values(A + "downloadurl", "WFHTTPMethod") == ("GET", "POST", "PUT", "PATCH", "DELETE")
    assert core.enum_values(A + "appearance", "style") == ("light", "dark")
    assert core.handle_wrap(A + "conditional", "WFInput") == "variable_ref"
    assert core.output_name(A + "ask") == "Provided Input"
    assert core.get(A + "health.quantity.log").param("WFQuantitySampleQuantity").units


def test_core_names_mean_the_same_in_the_reference(core: Catalog, ref: Catalog):
    """A program written with core names must resolve to the same actions with the reference."""
    for spec in core.actions:
        for key in (spec.short_name, *spec.aliases):
            got = ref.resolve(key)
            if got is not None and got in ref:
                assert got == spec.identifier, (key, got)


def test_core_agrees_with_the_reference_schemas(core: Catalog, raw_reference):
    """Our hand-written wrap rules match what real files show (non-null schema rules only)."""
    _, schemas = raw_reference
    compared, disagree = 0, []
    for spec in core.actions:
        for p in spec.params:
            rule = schemas.get(spec.identifier, {}).get(p.name, {}).get("handle_wrap")
            if rule is None:
                continue
            compared += 1
            if rule != p.handle_wrap:
                disagree.append((spec.short_name, p.name, p.handle_wrap, rule))
    assert compared >= 100
    assert disagree == []


def test_core_enums_cover_every_value_in_the_corpus(core: Catalog, ref: Catalog, corpus_actions):
    """Every literal string the real corpus gives an enum param is in our closed set."""
    missing = set()
    checked = 0
    for name, rest in corpus_actions:
        ident = ref.resolve(name)
        if ident == A + "comment":
            continue
        for key, quoted in STRING_PARAM.findall(rest):
            values = core.enum_values(ident, key)
            if values is None:
                continue
            checked += 1
            if json.loads(quoted) not in values:
                missing.add((name, key, json.loads(quoted)))
    assert checked >= 300
    assert sorted(missing) == []


# ----------------------------------------------------------------------------- suggest


def test_suggest(ref: Catalog, core: Catalog):
    for cat in (ref, core):
        got = cat.suggest("getvalueforky")
        assert got[0][0] == "getvalueforkey"
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True)
        assert all(s >= 0.6 for s in scores) and len(got) <= 5
        assert all(cat.resolve(n) in cat for n, _ in got)
        assert cat.suggest("qqqqzzzzxxxx") == []
    assert ref.suggest("Text.Split", cutoff=0.9)[0] == ("text.split", 1.0)  # case-insensitive
    assert len(ref.suggest("settext", cutoff=0.3, n=3)) == 3
    assert core.suggest("getcurentlocation")[0][0] == "getcurrentlocation"


# ----------------------------------------------------------------------------- errors


def _one_line_with_path(err: CatalogError, path: Path) -> None:
    text = str(err)
    assert "\n" not in text
    assert str(path) in text


def _write_reference(d: Path, catalog: str, schemas: str = "{}") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "action_catalog.json").write_text(catalog, encoding="utf-8")
    (d / "param_schemas.json").write_text(schemas, encoding="utf-8")
    return d


def test_reference_loader_on_a_small_hand_written_catalog(tmp_path: Path):
    doc = {
        "_meta": {"canonical_map": {"hello": A + "gettext", "xcb": "com.example.app.DoIt"}},
        "actions": {
            A + "gettext": {
                "identifier": A + "gettext",
                "name": "Text",
                "observed_params": {"WFTextActionText": 3},
            },
            "com.example.app.DoIt": {
                "identifier": "com.example.app.DoIt",
                "name": "Do It",
                "observed_params": {},
            },
        },
    }
    schemas = {A + "gettext": {"WFTextActionText": {"accepts_variable": True, "handle_wrap": "token_string"}}}
    d = _write_reference(tmp_path / "ref", json.dumps(doc), json.dumps(schemas))
    cat = Catalog.load(d)
    assert cat is Catalog.from_reference(d / "action_catalog.json")  # cached per resolved path
    assert cat.resolve("hello") == A + "gettext"
    assert cat.get(A + "gettext").aliases == ("hello",)
    assert cat.handle_wrap(A + "gettext", "WFTextActionText") == "token_string"
    assert cat.get(A + "gettext").param("WFTextActionText").accepts_input
    assert cat.known_params("com.example.app.DoIt") is None
    assert cat.output_name(A + "gettext") == "Text"
    assert cat.output_name("com.example.app.DoIt") == "Do It"
    assert cat.get("com.example.app.DoIt").category == "third_party"
    assert cat.vendor_prefixes[:2] == ("com.example.", "is.workflow.")
    assert len(cat.vendor_prefixes) == 2 + len(FIXED_VENDOR_PREFIXES)


@pytest.mark.parametrize(
    "catalog_text, schemas_text, bad_file, needle",
    [
        ('{"actions": {', "{}", "action_catalog.json", "malformed JSON"),
        ("[1, 2]", "{}", "action_catalog.json", "'actions'"),
        ('{"actions": {"a.b.c": {"observed_params": []}}}', "{}", "action_catalog.json", "observed_params"),
        (
            '{"_meta": {"canonical_map": {"x": 3}}, "actions": {}}',
            "{}",
            "action_catalog.json",
            "canonical_map",
        ),
        ('{"actions": {}}', "{\n  oops\n}", "param_schemas.json", "malformed JSON"),
        (
            '{"actions": {"a.b.c": {"observed_params": {"P": 1}}}}',
            '{"a.b.c": {"P": {"handle_wrap": "glue"}}}',
            "param_schemas.json",
            "handle_wrap",
        ),
    ],
)
def test_malformed_reference_is_one_line_with_the_path(
    tmp_path, catalog_text, schemas_text, bad_file, needle
):
    d = _write_reference(tmp_path / "ref", catalog_text, schemas_text)
    with pytest.raises(CatalogError) as info:
        Catalog.from_reference(d)
    _one_line_with_path(info.value, d / bad_file)
    assert needle in str(info.value)


def test_malformed_json_error_has_line_and_column(tmp_path):
    d = _write_reference(tmp_path / "ref", '{"actions": {}}', "{\n  oops\n}")
    with pytest.raises(CatalogError) as info:
        Catalog.from_reference(d)
    assert info.value.location.line == 2 and info.value.location.col == 3


def test_missing_reference_files(tmp_path):
    with pytest.raises(CatalogError) as info:
        Catalog.from_reference(tmp_path / "nowhere")
    _one_line_with_path(info.value, tmp_path / "nowhere" / "action_catalog.json")
    d = tmp_path / "half"
    d.mkdir()
    (d / "action_catalog.json").write_text('{"actions": {}}', encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.from_reference(d)
    _one_line_with_path(info.value, d / "param_schemas.json")


GOOD_YAML = """\
category: scripting
actions:
  - id: is.workflow.actions.gettext
    title: Text
    description: Passes text on.
    params:
      WFTextActionText: text
"""


@pytest.mark.parametrize(
    "text, needle, line",
    [
        ("category: scripting\nactions: [\n", "malformed YAML", 3),
        (GOOD_YAML + "      WFTextActionText: text\n", "duplicate key", 8),
        ("category: nowhere\nactions: []\n", "unknown category", None),
        (GOOD_YAML.replace("WFTextActionText: text", "WFTextActionText: txet"), "unknown type", None),
        (
            GOOD_YAML.replace("WFTextActionText: text", "WFTextActionText: {type: enum, values: [On, Off]}"),
            "string values",
            None,
        ),
        (
            GOOD_YAML.replace("WFTextActionText: text", "WFTextActionText: {type: enum}"),
            "string values",
            None,
        ),
        (GOOD_YAML.replace("    params:", "    input: WFInput\n    params:"), "input 'WFInput'", None),
        (GOOD_YAML.replace("title: Text", "titel: Text"), "unknown keys", None),
        (
            GOOD_YAML.replace("WFTextActionText: text", "WFTextActionText: {type: text, wrap: glue}"),
            "unknown wrap",
            None,
        ),
        (
            GOOD_YAML.replace("WFTextActionText: text", "WFTextActionText: {type: text, units: [mg]}"),
            "units",
            None,
        ),
    ],
)
def test_malformed_yaml_is_one_line_with_the_path(tmp_path, text, needle, line):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        Catalog.from_yaml(tmp_path)
    _one_line_with_path(info.value, f)
    assert needle in str(info.value)
    if line is not None:
        assert info.value.location.line == line


def test_yaml_duplicates_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD_YAML, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD_YAML, encoding="utf-8")
    with pytest.raises(CatalogError, match="gettext"):
        Catalog.from_yaml(tmp_path)
    (tmp_path / "b.yaml").write_text(
        GOOD_YAML.replace("gettext", "number").replace("    params:", "    aliases: [gettext]\n    params:"),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="already used"):
        Catalog.from_yaml(tmp_path)


def test_yaml_catalog_round_trip(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD_YAML, encoding="utf-8")
    cat = Catalog.load(tmp_path)
    spec = cat.get(A + "gettext")
    assert spec.params == (ParamSpec("WFTextActionText", "text", None, "token_string", True, ""),)
    assert spec.output_name == "Text" and spec.category == "scripting"
    with pytest.raises(CatalogError):
        Catalog.from_yaml(tmp_path / "missing")
