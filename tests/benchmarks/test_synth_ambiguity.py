"""benchmarks/synth_ambiguity.py (RESULTS §7.9: synthetic skeletons are determined by the generator's choices)."""

import json


def _row(sid, dsl):
    return {"shortcut_id": sid, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                             {"role": "assistant", "content": dsl}]}


def test_counts_groups_whose_programs_differ_in_structure(tmp_path, capsys):
    import synth_ambiguity

    assert synth_ambiguity.skeleton('SHORTCUT "x"\nACTION timer T=1\nIF @prev has_any_value\nENDIF\n') == (
        "A:timer", "IF", "ENDIF")
    meta = {"intents": ["timers.start"], "shape": "single", "control_flow": [], "uses_variables": False}
    rows = [_row("a", 'SHORTCUT "x"\nACTION timer T=1'), _row("b", 'SHORTCUT "y"\nACTION timer T=5'),
            _row("c", 'SHORTCUT "z"\nACTION alarm T=5'), _row("d", 'SHORTCUT "w"\nACTION note')]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    metas = [dict(meta, shortcut_id=s) for s in "abc"] + [dict(meta, shortcut_id="d", shape="other")]
    (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metas))
    assert synth_ambiguity.main(["--synth", str(tmp_path), "--splits", "train"]) == 0
    report = json.loads(capsys.readouterr().out)["train"]
    # a, b and c share the generator's choices; c's structure differs (values never count)
    assert report == {"rows": 4, "groups": 2, "rows_in_groups_of_2_or_more": 3,
                      "groups_with_more_than_one_skeleton": 1, "modal_skeleton_share_in_those_rows": 0.6667}
