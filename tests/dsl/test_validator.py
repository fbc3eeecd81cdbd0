"""Validator tests (shortcutdsl.md §6): each category on hand-written programs, modes, corpus."""

from __future__ import annotations

import collections

import pytest

from sashimi.dsl.ast import ActionStatement, HandleRef, IfBlock, MenuBlock, ShortcutIR, StringValue
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.parser import parse
from sashimi.dsl.validator import Issue, ValidationResult, validate

SF = "shortcutforge"  # the real corpus's dialect (sashimi.dsl.ast, issue 11.3)

CORE = Catalog.core()


def check(body: str, mode: str = "strict", catalog: Catalog = CORE) -> ValidationResult:
    return validate(parse('SHORTCUT "T"\n' + body), catalog, mode)


def cats(result: ValidationResult, severity: str | None = None) -> list[str]:
    issues = (
        result.issues if severity is None else (result.errors if severity == "error" else result.warnings)
    )
    return [i.category for i in issues]


def test_clean_program_has_no_issues():
    result = check(
        'ACTION comment WFCommentActionText="x"\nACTION getclipboard\nSET $Text = @prev\n'
        "IF $Text has_any_value\nACTION showresult Text=`{$Text}`\nELSE\nACTION vibrate\nENDIF\n"
    )
    assert result.valid and result.issues == ()
    assert isinstance(result, ValidationResult) and all(isinstance(i, Issue) for i in result.issues)


def test_bad_mode_rejected():
    with pytest.raises(ValueError):
        validate(parse('SHORTCUT "T"\n'), CORE, "lenient")


# ----------------------------------------------------------------------------- action tiers


def test_unknown_action_tiers_strict_vs_permissive():
    body = "ACTION getclipboard\nACTION com.apple.FakeApp.DoIntent text=@prev flag=true\n"
    strict = check(body, "strict")
    assert cats(strict, "error") == ["unknown_action"] and not strict.valid
    assert strict.errors[0].action_name == "com.apple.FakeApp.DoIntent" and strict.errors[0].line == 3
    permissive = check(body, "permissive")
    assert permissive.valid
    assert cats(permissive) == ["vendor_prefix_unknown", "compiler_risk"]
    assert permissive.warnings[1].param_name == "text"  # only the param holding a reference
    # built-in prefix written out in full, not in the catalog: tier 3 too
    assert check("ACTION is.workflow.actions.nosuchthing\n", "permissive").valid


def test_unknown_short_name_is_an_error_in_both_modes():
    for mode in ("strict", "permissive"):
        result = check("ACTION nonexist\n", mode)
        assert cats(result, "error") == ["unknown_action"]


@pytest.mark.parametrize("name", ["com.nobody.Foo.Bar", "org.x.y.Z", "is.workflow.actions.imgur.upload"])
def test_fully_qualified_unknown_identifier_is_permissive(name):
    # §3.2 rules 1 and 4: the user's explicit identifier passes through (issue 11.5); only the
    # catalog-strict measure rejects it.
    assert cats(check(f"ACTION {name}\n", "strict"), "error") == ["unknown_action"]
    result = check(f"ACTION {name}\n", "permissive")
    assert result.valid and cats(result, "warning") in (["unknown_vendor"], ["vendor_prefix_unknown"])


def test_names_resolve_by_short_name_and_full_identifier():
    assert check("ACTION is.workflow.actions.getclipboard\nACTION text.split\n").valid


# ----------------------------------------------------------------------------- params


def test_unknown_param_is_a_warning():
    result = check('ACTION showresult Text="a" Bogus=1\n')
    assert result.valid and cats(result) == ["unknown_param"]
    assert result.warnings[0].param_name == "Bogus"


def test_enum_outside_closed_set_is_an_error():
    assert check('ACTION format.date WFDateFormatStyle="Medium"\n').valid
    result = check('ACTION format.date WFDateFormatStyle="Gigantic"\n')
    assert cats(result, "error") == ["invalid_enum"]
    assert result.errors[0].param_name == "WFDateFormatStyle"
    # references and interpolations are runtime values, not checked against the set
    assert check("ACTION ask\nACTION format.date WFDateFormatStyle=@prev\n").valid


def test_duplicate_params_warn():
    # the parser keeps the last value only (§1.3), so build the IR directly, as a lowering would
    dup = ActionStatement("showresult", (("Text", StringValue("a")), ("Text", StringValue("b"))), line=2)
    result = validate(ShortcutIR("T", (dup,)), CORE)
    assert result.valid and cats(result) == ["duplicate_param"]


def test_lossy_binary_placeholder():
    result = check('ACTION showresult Text="<binary:12bytes>"\n')
    assert result.valid and cats(result) == ["lossy_binary"]


# ----------------------------------------------------------------------------- references


def test_undefined_variable_and_scoping():
    result = check("ACTION showresult Text=$Missing\n")
    assert cats(result) == ["undefined_variable"] and result.valid
    # SETs in a branch are merged back after the block (Shortcuts variables are global) ...
    merged = check(
        "ACTION getclipboard\nIF @prev has_any_value\nSET $A = @prev\nENDIF\nACTION showresult Text=$A\n"
    )
    assert "undefined_variable" not in cats(merged)
    # ... but the THEN branch's SET is not visible in the ELSE branch
    sibling = check(
        "ACTION getclipboard\nIF @prev has_any_value\nSET $A = @prev\nELSE\nACTION showresult Text=$A\nENDIF\n"
    )
    assert cats(sibling) == ["undefined_variable"]
    # each CASE is its own scope too
    cases = check(
        'MENU "m"\nCASE "a"\nACTION getclipboard\nSET $B = @prev\nCASE "b"\nACTION showresult Text=$B\nENDMENU\n'
    )
    assert cats(cases) == ["undefined_variable"]


def test_loop_variables_and_variable_actions():
    body = (
        "ACTION getclipboard\nFOREACH @prev\nFOREACH @prev\n"
        "ACTION showresult Text=`{$Repeat_Item} {$Repeat_Item_2} {$Repeat_Index_2}`\nENDFOREACH\nENDFOREACH\n"
        'ACTION getclipboard\nACTION appendvariable WFVariableName="My List"\nACTION showresult Text=$My_List\n'
    )
    assert check(body).issues == ()
    outside = check("ACTION showresult Text=$Repeat_Item\n")
    assert cats(outside) == ["undefined_variable"]


def test_invalid_handle_and_prev_fallback():
    first = check("ACTION showresult Text=@prev\n")
    assert cats(first, "error") == ["invalid_handle"] and not first.valid
    # a comment counts as "something precedes" for the fallback, but produces no output
    after_comment = check('ACTION comment WFCommentActionText="x"\nACTION showresult Text=@prev\n')
    assert after_comment.valid and cats(after_comment) == ["prev_fallback"]
    # first statement of an ELSE inherits the producer from before the IF (block-scoped rule)
    scoped = check(
        "ACTION getclipboard\nIF @prev has_any_value\nACTION vibrate\nELSE\nACTION showresult Text=@prev\nENDIF\n"
    )
    assert scoped.issues == ()
    # producers inside a closed block do not count: only the lexical fallback is left
    closed = check(
        'ACTION comment WFCommentActionText="x"\nIF @input has_any_value\nACTION getclipboard\nENDIF\n'
        "ACTION showresult Text=@prev\n"
    )
    assert cats(closed) == ["prev_fallback"]
    # an IF header at the very start has nothing before it
    assert cats(check("IF @prev has_any_value\nENDIF\n"), "error") == ["invalid_handle"]


def test_handle_context():
    result = check("ACTION showresult Text=@item\nACTION showresult Text=@index\n")
    assert cats(result) == ["handle_context", "handle_context"] and result.valid
    inside = check("REPEAT 2\nACTION showresult Text=@index\nACTION showresult Text=@item\nENDREPEAT\n")
    assert cats(inside) == ["handle_context"]  # @item needs FOREACH
    assert (
        check(
            "ACTION getclipboard\nFOREACH @prev\nACTION showresult Text=`{@item}{@index}`\nENDFOREACH\n"
        ).issues
        == ()
    )


def test_named_handles_resolution():
    ok = check(
        "ACTION getclipboard\nACTION format.date\nIF @prev has_any_value\nACTION vibrate\nENDIF\n"
        "ACTION showresult Text=`{@getclipboard} {@format_date} {@conditional} {@DeviceDetails} {@Ask}`\n"
    )
    assert ok.issues == ()
    result = check("ACTION getclipboard\nACTION showresult Text=`{@Custom_Name}{@repeat_each}`\n")
    assert cats(result) == ["unresolved_handle", "unresolved_handle"] and result.valid


# ----------------------------------------------------------------------------- structure


def test_missing_error_handling():
    bare = check('ACTION downloadurl WFURL="https://example.com"\nACTION showresult Text=@prev\n')
    assert cats(bare) == ["missing_error_handling"] and bare.valid
    handled = check(
        'ACTION downloadurl WFURL="https://example.com"\nACTION detect.dictionary\nSET $R = @prev\n'
        "IF $R has_any_value\nACTION showresult Text=$R\nENDIF\n"
    )
    assert "missing_error_handling" not in cats(handled)


def test_unreachable_code():
    result = check("ACTION exit\nACTION vibrate\nACTION vibrate\n")
    assert cats(result) == ["unreachable_code"] and result.warnings[0].line == 3
    assert (
        check("ACTION getclipboard\nIF @prev has_any_value\nACTION exit\nENDIF\nACTION vibrate\n").issues
        == ()
    )


@pytest.mark.parametrize("count", ["2.5", "0", "-1"])
def test_repeat_count_warning(count):
    result = check(f"REPEAT {count}\nACTION vibrate\nENDREPEAT\n")
    assert cats(result) == ["repeat_count"] and result.valid
    assert check("REPEAT 3\nACTION vibrate\nENDREPEAT\n").issues == ()


def test_set_with_literal_warns():
    result = check('SET $Greeting = "hi"\nACTION showresult Text=$Greeting\n')
    assert cats(result) == ["set_literal"] and result.valid


def test_empty_menu_and_unknown_condition_in_built_ir():
    ir = ShortcutIR(
        "T",
        (MenuBlock("m", (), line=2), IfBlock(HandleRef("input"), "==", None, (), None, line=3)),
    )
    result = validate(ir, CORE)
    # Real files contain item-less menus and they compile (issue 11.4): a warning, not an error.
    assert cats(result, "error") == ["unknown_condition"]
    assert "empty_menu" in cats(result, "warning")


# ----------------------------------------------------------------------------- corpus (§10 #25)


@pytest.fixture(scope="module")
def reference_catalog(shortcutforge_dir):
    return Catalog.from_reference(shortcutforge_dir)


def test_corpus_validates_strict_and_permissive(corpus_targets, reference_catalog):
    counts = collections.Counter()
    invalid = []
    enum_checked = 0  # literal values the enum check actually compared against a closed set
    for sid, target in corpus_targets:
        ir = parse(target, dialect=SF)
        for mode in ("strict", "permissive"):
            result = validate(ir, reference_catalog, mode)
            if not result.valid:
                invalid.append((sid, mode, result.errors[0]))
            counts.update(f"{mode}:{i.category}" for i in result.issues)
        for action in ir.all_actions():
            ident = reference_catalog.resolve(action.action_name)
            enum_checked += sum(
                isinstance(value, StringValue) and bool(reference_catalog.enum_values(ident, key))
                for key, value in action.params
            )
    assert len(corpus_targets) == 1671
    assert invalid == []
    assert counts["strict:unknown_param"] == 0
    # §3.3.3 / §10 #16-17: 156 unresolved named-handle uses, 6 `@prev` uses needing the fallback
    assert counts["strict:unresolved_handle"] == 156
    assert counts["strict:prev_fallback"] == 6
    # the enum check runs on the corpus (the reference catalog knows some closed sets), never fires
    assert enum_checked > 0
    assert counts["strict:invalid_enum"] == 0


def test_duplicate_param_in_parsed_text_warns():
    from sashimi.dsl.catalog import Catalog
    from sashimi.dsl.parser import parse
    from sashimi.dsl.validator import validate

    ir = parse('SHORTCUT "d"\nACTION gettext WFTextActionText="a" WFTextActionText="b"\n')
    (action,) = ir.statements
    assert action.params == (("WFTextActionText", action.param("WFTextActionText")),)
    assert action.param("WFTextActionText").value == "b"
    result = validate(ir, Catalog.core())
    assert result.valid
    assert [w.param_name for w in result.warnings if w.category == "duplicate_param"] == ["WFTextActionText"]
