"""The DSL-text target's parts (plan 4.1.5): the byte-level BPE, the no-grammar search constraint, and the
verdict on a text model's raw program (lint → parse → validate → compile, failures kept)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sashimi.dsl.catalog import Catalog
from sashimi.dsl.corpus import row_from_json
from sashimi.errors import DataError
from sashimi.ir.typed import to_typed
from sashimi.model.decoder import DecoderConfig, SashimiDecoder
from sashimi.model.generator import text_verdict
from sashimi.model.search import search
from sashimi.model.text_target import TextConstraint, TextTokenizer, split_eos
from sashimi.model.token_table import BOS_ID, EOS_ID, PAD_ID, TABLE_SPECIALS, UNK_ID
from sashimi.train.data import parse_rows, program_text

from .gen_helpers import synthetic_rows


def _texts(rows, catalog) -> list[str]:
    parsed, _ = parse_rows(rows)
    return [program_text(to_typed(ir, catalog)) for _, ir in parsed]


@pytest.fixture(scope="module")
def synth_texts() -> list[str]:
    train, test = synthetic_rows(60)
    catalog = Catalog.core()
    return _texts(train, catalog) + _texts(test, catalog)


def test_round_trip_on_real_corpus_programs_unseen_by_the_bpe(corpus_rows, shortcutforge_dir):
    catalog = Catalog.load(shortcutforge_dir)
    rows = [row_from_json(r, file="train.jsonl", line=i) for i, r in enumerate(corpus_rows, start=1)]
    texts = _texts(rows, catalog)
    assert len(texts) > 1500
    tok = TextTokenizer.train(texts[:400], 1024)  # the other ~1,270 programs are unseen text
    assert tuple(tok.table().tokens[:4]) == TABLE_SPECIALS and len(tok) == 1024
    for text in texts:
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        assert not {PAD_ID, BOS_ID, EOS_ID, UNK_ID} & set(ids)
    # far shorter than characters: what keeps a decoder's sequences in reach
    chars = np.mean([len(t) for t in texts])
    assert np.mean([len(tok.encode(t)) for t in texts]) < chars / 2.5


def test_bpe_is_deterministic_and_saved_as_json(synth_texts, tmp_path):
    a = TextTokenizer.train(synth_texts, 400)
    b = TextTokenizer.train(list(synth_texts), 400)
    assert a.to_str() == b.to_str()
    a.save(tmp_path)
    json.loads((tmp_path / "tokenizer.json").read_text())  # plain JSON, nothing pickled
    c = TextTokenizer.load(tmp_path)
    assert c.to_str() == a.to_str()
    odd = 'SHORTCUT "é 日本 \\n"\nACTION nope x=1\n'  # text the BPE never saw, non-ASCII bytes included
    assert c.decode(c.encode(odd)) == odd
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(DataError, match="unreadable text tokenizer"):
        TextTokenizer.load(tmp_path)


def test_constraint_allows_all_text_and_ends_at_eos_or_max_len():
    c = TextConstraint(50, max_len=3)
    allowed = c.allowed(c.initial())
    assert not allowed[[PAD_ID, BOS_ID, UNK_ID]].any() and allowed[EOS_ID] and allowed[4:].all()
    s = c.advance(c.initial(), 7)
    assert not c.is_final(s) and c.is_final(c.advance(s, EOS_ID))
    assert c.is_final(c.advance(c.advance(s, 8), 9))  # max_len reached: cut there
    assert split_eos([5, 6, EOS_ID]) == ([5, 6], True) and split_eos([5, 6]) == ([5, 6], False)


@pytest.mark.parametrize("beam", [1, 3])
def test_search_over_text_tokens_stops_at_max_len_without_eos(beam):
    torch.manual_seed(0)
    cfg = DecoderConfig(
        vocab_size=40, d_model=32, n_layers=1, n_heads=2, d_intent=16, d_bottleneck=8, n_intent=2,
        max_len=12, use_token_states=False, dropout=0.0,
    )  # fmt: skip
    model = SashimiDecoder(cfg).eval()
    with torch.no_grad():
        model.lm_head.weight.zero_()  # uniform logits: <EOS> is no more likely than any text token
    memory = model.encode(torch.randn(1, 384))
    result = search(model, memory, TextConstraint(40, cfg.max_len), beam=beam)
    ids, ended = split_eos(result.token_ids)
    assert len(result.token_ids) <= cfg.max_len
    assert ended or len(result.token_ids) == cfg.max_len
    assert not {PAD_ID, BOS_ID, UNK_ID} & set(result.token_ids)


def test_unparsable_text_is_invalid_with_its_error():
    catalog = Catalog.core()
    checked, validity = text_verdict('SHORTCUT "x"\nIF $a ==\nACTION ((\n', catalog, truncated=True)
    assert checked.shortcut_bytes is None
    assert validity["parsed"] is False and validity["failed_stage"] == "parse"
    assert validity["error"] and validity["truncated"] is True
    assert not validity["compiled_strict"] and not validity["compiled_permissive"]


def test_lint_repairs_are_listed_and_the_parsed_text_kept(synth_texts):
    catalog = Catalog.core()
    checked, validity = text_verdict(synth_texts[0], catalog)
    assert validity["compiled_strict"] and validity["lint_repairs"] == [] and "linted_dsl" not in validity
    raw = 'SHORTCUT "x"\nIF $a == 1\nACTION coment WFCommentActionText="hi"\n'  # 3 repairs needed
    checked, validity = text_verdict(raw, catalog)
    assert checked.shortcut_bytes is not None and validity["compiled_strict"]
    kinds = [r.split(":")[0].split()[-1] for r in validity["lint_repairs"]]
    assert sorted(kinds) == ["action", "condition", "structure"], validity["lint_repairs"]
    assert "ENDIF" in validity["linted_dsl"] and "comment WF" in validity["linted_dsl"]
    assert sum("repair" in w for w in validity["warnings"]) == 3  # never plainly "valid"
