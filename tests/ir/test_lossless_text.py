"""Lossless round trip through DSL text: parse -> typed IR -> lowering -> canonical text (and a property test)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from sashimi.dsl.ast import SetVariable, ShortcutIR, VarRef
from sashimi.dsl.catalog import Catalog
from sashimi.dsl.parser import parse
from sashimi.ir.lowering import lower, lower_to_text
from sashimi.ir.typed import TypedProgram, tier_texts, to_typed
from tests.dsl.strategies import programs
from tests.ir.helpers import small_catalog

CAT = small_catalog()

# Hand-written, canonical spelling: every statement and value kind of the language.
PROGRAM = """SHORTCUT "Tour \\"of\\" kinds"
ACTION comment WFCommentActionText="Line one\\nLine\\ttwo \\\\ done"
ACTION gettext WFTextActionText=`Hello {@input}, {$Who}!
 second line`
ACTION text.combine WFTextSeparator="Custom" text=@prev ShowWhenRun=false
ACTION setvariable WFVariableName="Who" WFInput=@prev
ACTION adjustdate WFDuration=QTY(-2.5, "days") WFDate=QTY(@prev, "hr")
ACTION downloadurl WFHTTPHeaders=HEADERS {"Accept": "json", "X": `{$Who}`} WFJSONValues={"a": [1, 2.0, true, {}], "b": []}
SET $Count = 0
IF $Count is_greater_than 10
ACTION number WFNumberActionNumber=$Count
ELSE
ENDIF
IF @Ask does_not_have_any_value 1
ENDIF
MENU `Choose {@date}`
CASE "One"
REPEAT 3
FOREACH @prev
ACTION number WFNumberActionNumber=$Repeat_Item
ENDFOREACH
ENDREPEAT
CASE "Two"
ENDMENU
REPEAT @repeat_each
ENDREPEAT
ACTION com.example.app.DoThingIntent Flag=true
"""


def test_hand_written_program_round_trips_to_identical_text():
    ir = parse(PROGRAM)
    for catalog in (CAT, Catalog.core()):
        typed = to_typed(ir, catalog)
        assert lower(typed) == ir
        assert lower_to_text(typed) == PROGRAM
        assert "E:Custom" in tier_texts(typed, (2,))


def test_variables_that_look_like_abstract_or_builtin_names():
    ir = ShortcutIR(
        "T",
        (SetVariable("VAR_2", VarRef("VAR_1")), SetVariable("Repeat_Item_3", VarRef("Repeat_Index"))),
    )
    typed = to_typed(ir, CAT)
    assert typed.var_names == ("VAR_2", "VAR_1")
    assert "$Repeat_Item_3" in tier_texts(typed) and lower(typed) == ir


# Drawing programs dominates the cost (~0.5 s each); 15 examples keep this test near 8 s on CI.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_typed_ir_is_lossless_for_generated_programs(ir):
    for catalog in (CAT, Catalog.core()):
        typed = to_typed(ir, catalog)
        reloaded = TypedProgram.from_json(json.loads(json.dumps(typed.to_json())))
        assert reloaded == typed
        assert lower(reloaded) == ir
        assert parse(lower_to_text(reloaded)) == ir
