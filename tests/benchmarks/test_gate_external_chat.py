"""benchmarks/gate_external_chat.py: reading the corpus's first turns, de-duplication, the extended set."""

import json
import sys
import types

import pytest

import gate_external_chat


@pytest.fixture
def fake_corpus(tmp_path, monkeypatch):
    """A stand-in chatterbot_corpus package with two English files (the real one is not a test dependency)."""
    english = tmp_path / "chatterbot_corpus" / "data" / "english"
    english.mkdir(parents=True)
    (english / "greetings.yml").write_text(
        "categories: [greetings]\nconversations:\n"
        "- [Hello, Hi there]\n- ['  Good   morning ', Morning]\n- [hello, Hey]\n- []\n",
        encoding="utf-8",
    )
    (english / "trivia.yml").write_text(
        "conversations:\n- - Who wrote Hamlet?\n  - Shakespeare\n  - Who else?\n- - Set a timer for 5 minutes\n  - ok\n",
        encoding="utf-8",
    )
    (english / "README.md").write_text("not a corpus file", encoding="utf-8")
    pkg = types.ModuleType("chatterbot_corpus")
    pkg.__path__ = [str(tmp_path / "chatterbot_corpus")]
    pkg.__file__ = str(tmp_path / "chatterbot_corpus" / "__init__.py")
    (tmp_path / "chatterbot_corpus" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "chatterbot_corpus", raising=False)
    return english


def test_first_turns_only_whitespace_collapsed(fake_corpus):
    turns = gate_external_chat.chatterbot_turns()
    assert turns == [
        ("greetings", "Hello"),
        ("greetings", "Good morning"),
        ("greetings", "hello"),
        ("trivia", "Who wrote Hamlet?"),
        ("trivia", "Set a timer for 5 minutes"),
    ]  # second turns (the bot's) and later ones never read; empty conversations skipped


def test_rows_deduplicated_case_blind_and_against_the_base_set(fake_corpus):
    rows = gate_external_chat.external_rows({"set a timer for 5 minutes"})
    assert [r["prompt"] for r in rows] == ["Hello", "Good morning", "Who wrote Hamlet?"]
    assert all(r["label"] == "ood" for r in rows)
    assert {r["template_id"] for r in rows} == {"cb/greetings", "cb/trivia"}  # whole files are the groups
    assert rows[0]["category"] == "cb_greetings"


def test_main_appends_to_the_labelled_set(fake_corpus, tmp_path, capsys):
    base = tmp_path / "ood.jsonl"
    base.write_text(
        json.dumps({"prompt": "Who wrote Hamlet?", "label": "ood", "category": "x", "template_id": "t"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    gate_external_chat.main(["--ood", str(base), "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["prompt"] for r in rows] == [
        "Who wrote Hamlet?",
        "Hello",
        "Good morning",
        "Set a timer for 5 minutes",
    ]
    assert "1 rows + 3 chatterbot-corpus turns" in capsys.readouterr().out


def test_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "chatterbot_corpus", None)  # import fails as if not installed
    with pytest.raises(SystemExit, match="chatterbot-corpus is not installed"):
        gate_external_chat.chatterbot_turns()
