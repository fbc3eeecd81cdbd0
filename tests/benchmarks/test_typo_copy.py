"""benchmarks/typo_copy.py: one typo in the request of every row, nothing else changed."""

import json

import typo_copy


def test_one_typo_in_each_request_only(tmp_path):
    chat = {
        "shortcut_id": "s1",
        "messages": [
            {"role": "system", "content": "You generate programs carefully."},
            {"role": "user", "content": "Remind me about the dentist tomorrow"},
            {"role": "assistant", "content": 'SHORTCUT "Dentist"'},
        ],
    }
    rows = [chat, {"id": "p1", "prompt": "Start a timer for the laundry"}, {"id": "p2", "prompt": "set it"}]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert typo_copy.main(["--data", str(src), "--out", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert got[0]["messages"][0] == chat["messages"][0] and got[0]["messages"][2] == chat["messages"][2]
    for before, after in ((chat["messages"][1]["content"], got[0]["messages"][1]["content"]),
                          (rows[1]["prompt"], got[1]["prompt"])):
        assert before != after and sorted(before) == sorted(after)  # two letters swapped
        assert sum(a != b for a, b in zip(before, after, strict=True)) == 2
    assert got[2] == rows[2]  # no word of 5+ letters: unchanged
    assert typo_copy.main(["--data", str(src), "--out", str(tmp_path / "again.jsonl")]) == 0
    assert (tmp_path / "again.jsonl").read_text() == out.read_text()  # seeded
