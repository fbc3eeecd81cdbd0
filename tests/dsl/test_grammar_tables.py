"""The tables the toolchain reads beside grammar.lark (sashimi.dsl.ast) agree with the grammar."""

from __future__ import annotations

import re

from lark import Lark

from sashimi.dsl.ast import BLOCK_CLOSERS, CONDITIONS, KEYWORDS
from sashimi.dsl.parser import GRAMMAR_PATH, grammar_text
from sashimi.ir.typed import STATEMENT_KEYWORDS

# The condition words are filled in from sashimi.dsl.ast.CONDITIONS (issue 11: one source of truth).
TERMINALS = {t.name: t.pattern for t in Lark(grammar_text(), parser="lalr").terminals}
VALUE_KEYWORDS = {"QTY", "HEADERS"}  # keywords inside values, not statements


def test_grammar_file_takes_its_condition_words_from_the_table():
    assert "__CONDITION_WORDS__" in GRAMMAR_PATH.read_text(encoding="utf-8")
    assert "__CONDITION_WORDS__" not in grammar_text()


def test_condition_terminal_and_condition_table_agree():
    pattern = TERMINALS["CONDITION"].to_regexp()
    assert all(re.fullmatch(pattern, c) for c in CONDITIONS)
    alternatives = pattern.removeprefix("(?:").removesuffix(")").split("|")
    assert sorted(alternatives) == sorted(CONDITIONS)


def test_keyword_table_is_the_grammar_statement_keywords():
    literal_keywords = {
        name
        for name, pattern in TERMINALS.items()
        if pattern.type == "str" and pattern.value == name and name.isupper()
    }
    assert literal_keywords - VALUE_KEYWORDS == set(KEYWORDS)
    assert len(KEYWORDS) == len(set(KEYWORDS))


def test_block_table_pairs_grammar_keywords():
    assert set(BLOCK_CLOSERS) | set(BLOCK_CLOSERS.values()) <= set(KEYWORDS)
    for opener, closer in BLOCK_CLOSERS.items():
        assert closer == "END" + opener


def test_typed_ir_keywords_come_from_the_table():
    assert STATEMENT_KEYWORDS[:-2] == tuple(k for k in KEYWORDS if k != "ENDSHORTCUT")
    assert STATEMENT_KEYWORDS[-2:] == ("#", "END")
