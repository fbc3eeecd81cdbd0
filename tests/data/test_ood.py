"""OOD prompt set: counts, categories, template ids, balanced filler rates, determinism, no overlap."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sashimi.cli import main
from sashimi.data.ood import (
    CATEGORY_TEMPLATES,
    FILLERS,
    IN_DOMAIN,
    MAX_RATE_GAP_POINTS,
    MORE_CATEGORIES,
    OOD,
    BasePrompt,
    _apply_prefix,
    _apply_suffix,
    _norm,
    apply_fillers,
    build_ood_set,
    expand_template,
    filler_balance,
    filler_rates,
    filler_targets,
    load_ood_set,
    one_typo,
    typo_copy_rows,
)
from sashimi.data.ood_templates import CONTRAST_TEMPLATES
from sashimi.data.ood_templates_broad import BROAD_CATEGORY_TEMPLATES, REGISTER_TEMPLATES
from sashimi.data.ood_templates_more import MORE_CATEGORY_TEMPLATES, MORE_CONTRAST_TEMPLATES
from sashimi.errors import DataError

NEAR_DOMAIN = {
    "near_android_tasker",
    "near_swiftui_ios_code",
    "near_ifttt_zapier",
    "near_windows_powershell",
    "near_ios_questions",
}


@pytest.fixture(scope="module")
def ood_set():
    return build_ood_set(seed=0, per_category=50, in_domain=500)


def test_counts_and_categories(ood_set):
    labels = Counter(r.label for r in ood_set.rows)
    assert labels[IN_DOMAIN] >= 500 and labels[OOD] >= 500
    per_category = Counter(r.category for r in ood_set.rows if r.label == OOD)
    assert set(per_category) == set(CATEGORY_TEMPLATES)
    assert NEAR_DOMAIN <= set(per_category)
    assert {"general_knowledge", "math_science", "coding", "philosophical", "creative_writing"} <= set(
        per_category
    )
    assert min(per_category.values()) >= 50
    assert ood_set.report["counts"]["label"] == dict(sorted(labels.items()))
    assert len({r.prompt for r in ood_set.rows}) == len(ood_set.rows)  # no duplicate prompts


def test_in_domain_contrast_prompts(ood_set):
    """One in-domain prompt in four is ours: a DO-on-iOS request or one in another register (terse,
    third-person, rambling, "could a shortcut ...?"), from templates without fillers."""
    own = [r for r in ood_set.rows if r.category in ("contrast", "register")]
    assert len(own) == 125 and all(r.label == IN_DOMAIN for r in own)
    assert all(r.template_id.startswith(f"own/{r.category}/") for r in own)
    assert {r.template_id for r in own} == {f"own/contrast/{t.template_id}" for t in CONTRAST_TEMPLATES} | {
        f"own/register/{t.template_id}" for t in REGISTER_TEMPLATES
    }
    for template in CONTRAST_TEMPLATES + REGISTER_TEMPLATES:
        for v in expand_template(template):
            assert "{" not in v and not any(f.present(v) for f in FILLERS), v


def test_larger_sets_build_and_too_large_ones_say_why():
    big = build_ood_set(seed=0, per_category=95, in_domain=100)
    assert min(Counter(r.category for r in big.rows if r.label == OOD).values()) == 95
    with pytest.raises(DataError, match="use --per-category"):
        build_ood_set(seed=0, per_category=400, in_domain=100)


def test_template_ids(ood_set):
    by_category: dict[str, set[str]] = {}
    for r in ood_set.rows:
        assert r.template_id
        if r.label == OOD:
            assert r.template_id.startswith(f"ood/{r.category}/")
            by_category.setdefault(r.category, set()).add(r.template_id)
        else:
            assert r.template_id.startswith(("synth/", "real/", "own/contrast/", "own/register/"))
    # Many distinct templates per category, so the gate can be tested on templates it never saw.
    assert min(len(t) for t in by_category.values()) >= 6


def test_filler_rates_are_balanced(ood_set):
    balance = filler_balance(ood_set.rows)  # recomputed from the rows, not taken from the report
    assert balance == ood_set.report["filler"]
    assert balance["max_gap_points"] <= MAX_RATE_GAP_POINTS
    rates = balance["rates"]
    # The filler layer is really used on both sides (not balanced by having no fillers at all).
    assert rates[OOD]["any"] >= 30 and rates[IN_DOMAIN]["any"] >= 30
    for filler in FILLERS:
        assert rates[OOD][filler.name] > 0, filler.name


def test_no_ood_prompt_is_an_in_domain_prompt(ood_set):
    from sashimi.data.synth import generate_corpus

    corpus = generate_corpus(2000, 0)
    synthetic = {_norm(ex.row.prompt) for split in corpus.values() for ex in split}
    in_domain = {_norm(r.prompt) for r in ood_set.rows if r.label == IN_DOMAIN}
    for r in ood_set.rows:
        if r.label == OOD:
            assert _norm(r.prompt) not in synthetic
            assert _norm(r.prompt) not in in_domain


def test_templates_expand_without_fillers():
    """Base OOD templates avoid every filler phrase: all fillers come from the shared layer."""
    assert set(BROAD_CATEGORY_TEMPLATES) <= set(CATEGORY_TEMPLATES)  # issue 16's categories are used
    for category, templates in CATEGORY_TEMPLATES.items():
        assert len(templates) >= (6 if category in BROAD_CATEGORY_TEMPLATES else 10), category
        assert len({t.template_id for t in templates}) == len(templates)
        variants = [v for t in templates for v in expand_template(t)]
        assert len(set(variants)) >= 50, category
        for v in variants:
            assert "{" not in v and "}" not in v, v
            assert not any(f.present(v) for f in FILLERS), v


@pytest.mark.parametrize(
    "text, mode",
    [
        ("Write a poem about rain.", "imperative"),
        ("What is a prime?", "question"),
        ("Opens the app.", "statement"),
    ],
)
def test_each_frame_adds_exactly_its_filler(text, mode):
    for filler in FILLERS:
        frames = [("p", f) for f in filler.universal] + [("s", f) for f in filler.suffix]
        if mode == "imperative":
            frames += [("p", f) for f in filler.imperative]
        for kind, frame in frames:
            out = _apply_prefix(frame, text) if kind == "p" else _apply_suffix(frame, text)
            present = {f.name for f in FILLERS if f.present(out)}
            assert present == {filler.name}, (frame, out)


def test_apply_fillers_matches_rates_across_unequal_bases():
    """Class A already says "please"/"thanks" together in 30% of prompts; class B never does."""
    a = [BasePrompt(f"Turn on light {i}", IN_DOMAIN, "x", "t", "imperative") for i in range(140)]
    a += [BasePrompt(f"Please dim lamp {i}. Thanks!", IN_DOMAIN, "x", "t", "statement") for i in range(60)]
    b = [BasePrompt(f"Write a poem about number {i}.", OOD, "y", "u", "imperative") for i in range(100)]
    b += [BasePrompt(f"What is the root of {i}?", OOD, "y", "u", "question") for i in range(100)]
    targets = filler_targets({"a": [p.text for p in a], "b": [p.text for p in b]})
    assert targets["please"] == pytest.approx(0.3)
    texts_a = apply_fillers(a, targets, seed=1)
    any_a = sum(any(f.present(t) for f in FILLERS) for t in texts_a) / len(texts_a)
    texts_b = apply_fillers(b, targets, seed=2, target_any=any_a)
    ra, rb = filler_rates(texts_a), filler_rates(texts_b)
    for name in ra:
        assert abs(ra[name] - rb[name]) <= 1.0, (name, ra[name], rb[name])


def test_deterministic():
    a = build_ood_set(seed=3, per_category=12, in_domain=60)
    b = build_ood_set(seed=3, per_category=12, in_domain=60)
    c = build_ood_set(seed=4, per_category=12, in_domain=60)
    assert a.rows == b.rows and a.report == b.report
    assert a.rows != c.rows


def test_with_real_prompts(shortcutforge_dir):
    result = build_ood_set(seed=0, per_category=50, in_domain=600, data=shortcutforge_dir / "train.jsonl")
    cats = Counter(r.category for r in result.rows if r.label == IN_DOMAIN)
    assert (
        cats["real_train"] == 300 and cats["contrast"] + cats["register"] == 150 and cats["synthetic"] == 150
    )
    assert result.report["filler"]["max_gap_points"] <= MAX_RATE_GAP_POINTS
    assert all(r.template_id.startswith("real/") for r in result.rows if r.category == "real_train")


def test_cli_and_loader(tmp_path, capsys):
    out = tmp_path / "ood.jsonl"
    assert main(["data", "ood", "--out", str(out), "--per-category", "50", "--in-domain", "500"]) == 0
    rows = load_ood_set(out)
    n_ood = 50 * len(CATEGORY_TEMPLATES)
    assert len(rows) == 500 + n_ood
    report = json.loads((tmp_path / "ood.report.json").read_text())
    assert report["counts"]["label"] == {IN_DOMAIN: 500, OOD: n_ood}
    assert report["run"]["config"]["per_category"] == 50
    printed = capsys.readouterr().out
    assert "near_ios_questions" in printed and "any" in printed
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "x", "label": "maybe", "category": "c", "template_id": "t"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:1"):
        load_ood_set(bad)


# ------------------------------------------------------------------ the third template batch (opt-in)


def test_more_templates_add_six_categories_and_in_domain_twins():
    plain = build_ood_set(seed=0, per_category=50, in_domain=500)
    more = build_ood_set(seed=0, per_category=50, in_domain=500, more_templates=True)
    assert not set(MORE_CATEGORY_TEMPLATES) & set(CATEGORY_TEMPLATES)  # without the flag: the set as before
    assert {r.category for r in plain.rows if r.label == OOD} == set(CATEGORY_TEMPLATES)
    per_category = Counter(r.category for r in more.rows if r.label == OOD)
    assert set(per_category) == set(MORE_CATEGORIES) == set(CATEGORY_TEMPLATES) | set(MORE_CATEGORY_TEMPLATES)
    assert min(per_category.values()) == 50
    twins = {f"own/contrast/{t.template_id}" for t in MORE_CONTRAST_TEMPLATES}
    used = {r.template_id for r in more.rows if r.label == IN_DOMAIN}
    assert twins <= used and not twins & {r.template_id for r in plain.rows}
    assert more.report["filler"]["max_gap_points"] <= MAX_RATE_GAP_POINTS
    assert len({r.prompt for r in more.rows}) == len(more.rows)
    in_keys = {_norm(r.prompt) for r in more.rows if r.label == IN_DOMAIN}
    assert not [r for r in more.rows if r.label == OOD and _norm(r.prompt) in in_keys]


def test_more_templates_expand_without_fillers():
    for category, templates in MORE_CATEGORY_TEMPLATES.items():
        assert len(templates) >= 10, category
        variants = [v for t in templates for v in expand_template(t)]
        assert len(set(variants)) >= 80, category  # enough for --per-category 80
        for v in variants:
            assert "{" not in v and "}" not in v, v
            assert not any(f.present(v) for f in FILLERS), v
    for template in MORE_CONTRAST_TEMPLATES:  # every in-domain twin fills in completely
        variants = expand_template(template)
        assert len(variants) >= 10 and all("{" not in v for v in variants), template.template_id
    # the twins' "every morning, <verb> ..." slot is the base form of each "<verb>s ..." phrase
    morning = expand_template(next(t for t in MORE_CONTRAST_TEMPLATES if t.template_id == "device_write_every"))
    assert any(", create a new note" in v for v in morning) and any(", copy a template" in v for v in morning)
    assert not any(", creates " in v or ", copies " in v for v in morning)


def test_cli_more_templates(tmp_path):
    out = tmp_path / "ood.jsonl"
    args = ["data", "ood", "--out", str(out), "--per-category", "50", "--in-domain", "500", "--more-templates"]
    assert main(args) == 0
    rows = load_ood_set(out)
    assert sum(r.label == OOD for r in rows) == 50 * len(MORE_CATEGORIES)
    assert json.loads((tmp_path / "ood.report.json").read_text())["run"]["config"]["more_templates"] is True


def test_typo_copies_keep_label_category_and_template():
    base = build_ood_set(seed=1, per_category=12, in_domain=60)
    more = build_ood_set(seed=1, per_category=12, in_domain=60, typo_copies=1)
    assert set(base.rows) < set(more.rows)  # every original row stays
    copies = [r for r in more.rows if r not in set(base.rows)]
    assert len(base.rows) * 0.9 <= len(copies) <= len(base.rows)  # a prompt with no 5+ letter word has none
    by_template = {}
    for r in base.rows:
        by_template.setdefault((r.template_id, r.label, r.category), []).append(r.prompt)
    for c in copies:  # one adjacent swap away from a prompt of the same template, label and category
        originals = by_template[(c.template_id, c.label, c.category)]
        same_length = [o for o in originals if len(o) == len(c.prompt)]
        assert any(sum(a != b for a, b in zip(o, c.prompt, strict=True)) == 2 for o in same_length)
    assert more.report["counts"]["label"][OOD] == sum(r.label == OOD for r in more.rows)


def test_typo_copy_rows_skip_prompts_without_a_word_to_misspell_and_reject_negative_counts():
    from sashimi.data.ood import OODRow

    rows = [OODRow("wifi off", IN_DOMAIN, "c", "t1"), OODRow("Translate the paragraph", OOD, "d", "t2")]
    out = typo_copy_rows(rows, 3, seed=0)
    assert all(r.template_id == "t2" and r.label == OOD for r in out) and 1 <= len(out) <= 3
    assert len({r.prompt for r in out}) == len(out) and rows[1].prompt not in {r.prompt for r in out}
    assert typo_copy_rows(rows, 0, seed=0) == []
    with pytest.raises(DataError, match="typo_copies"):
        typo_copy_rows(rows, -1, seed=0)
    assert one_typo("wifi off", __import__("random").Random(0)) == "wifi off"
