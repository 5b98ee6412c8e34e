"""The search query language: parsed once, read alike by PostgreSQL (websearch) and SQLite (FTS5), never syntax."""

from __future__ import annotations

import sqlite3

import pytest

from livesupport.domain.errors import BadRequestError
from livesupport.domain.search import (
    CLOSE,
    MAX_QUERY,
    OPEN,
    BadQueryError,
    EventText,
    event_text,
    fts5,
    marked_html,
    parse,
    websearch,
)

CASES = [
    # (typed, FTS5 MATCH, canonical websearch)
    ("printers", '"printers"', '"printers"'),
    ("Printer JAM", '"printer" AND "jam"', '"printer" "jam"'),
    ('"paper jam" tray', '"paper jam" AND "tray"', '"paper jam" "tray"'),
    ("toner OR ink", '("toner" OR "ink")', '"toner" OR "ink"'),
    ("toner or ink", '("toner" OR "ink")', '"toner" OR "ink"'),
    ("printer -toner", '("printer") NOT "toner"', '"printer" -"toner"'),
    ('printer -"paper jam"', '("printer") NOT "paper jam"', '"printer" -"paper jam"'),
    ('"unbalanced quote', '"unbalanced quote"', '"unbalanced quote"'),
    ('printer "', '"printer"', '"printer"'),
    ("OR printer OR", '"printer"', '"printer"'),
    ("printer - toner", '"printer" AND "toner"', '"printer" "toner"'),  # a lone - is nothing
    ("print*", '"print"', '"print"'),
    ("NEAR(printer toner)", '"near printer" AND "toner"', '"near printer" "toner"'),
    ("subject:printer", '"subject printer"', '"subject printer"'),
    ("{subject}: printer ^first", '"subject" AND "printer" AND "first"', '"subject" "printer" "first"'),
    ('a"b"c', '"a b c"', '"a b c"'),  # one token: its words as a phrase
    ("e-mail", '"e mail"', '"e mail"'),
    ("foo_bar", '"foo bar"', '"foo bar"'),
    ("Café naïve", '"café" AND "naïve"', '"café" "naïve"'),
    ("日本語 тест", '"日本語" AND "тест"', '"日本語" "тест"'),
    ("printer printer", '"printer" AND "printer"', '"printer" "printer"'),
    ("a OR -b", '("a") NOT "b"', '"a" -"b"'),
    ("--printer x", '("x") NOT "printer"', '"x" -"printer"'),
    ("x AND y", '"x" AND "and" AND "y"', '"x" "and" "y"'),  # AND is a word, as in websearch
]


@pytest.mark.parametrize(("typed", "match", "canonical"), CASES)
def test_translation(typed: str, match: str, canonical: str) -> None:
    q = parse(typed)
    assert fts5(q) == match
    groups, excluded = websearch(q)
    assert " ".join([*groups, *("-" + e for e in excluded)]) == canonical


@pytest.mark.parametrize("typed", [c[0] for c in CASES] + [
    '"', "x" * MAX_QUERY, " ".join(["w"] * 100), 'a" OR "b', "x -y -z OR w", "NOT x", "x NOT", "(x)", "x:*",
])
def test_every_expression_is_valid_fts5_and_matches_only_words(typed: str) -> None:
    """Whatever is typed, SQLite reads the expression without an error, as words only."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(subject, public_text, internal_text, "
               "tokenize = 'porter unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t VALUES ('near printer', 'subject printer', 'secret')")
    try:
        q = parse(typed)
    except BadQueryError:
        return
    db.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts5(q),)).fetchall()
    db.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts5(q, ("subject", "public_text")),)).fetchall()


def test_a_column_filter_keeps_the_whole_query_in_those_columns() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(subject, public_text, internal_text, tokenize = 'porter')")
    db.execute("INSERT INTO t VALUES ('Printers', 'jammed again', 'secret toner')")
    public = ("subject", "public_text")
    found = {typed: bool(db.execute("SELECT 1 FROM t WHERE t MATCH ?", (fts5(parse(typed), public),)).fetchall())
             for typed in ("printer", "secret", "printer secret", "secret OR toner", "printer -secret",
                           'printer OR "secret toner"')}
    assert found == {"printer": True, "secret": False, "printer secret": False, "secret OR toner": False,
                     "printer -secret": True, 'printer OR "secret toner"': True}


@pytest.mark.parametrize(("typed", "words"), [
    ("", "Type something"), ("   ", "Type something"), ("x" * (MAX_QUERY + 1), "the limit is 200"),
    ("-printer", "at least one word"), ("-printer -toner", "at least one word"), ("***", "at least one word"),
    ("OR", "at least one word"), ("-", "at least one word"), ('""', "at least one word"),
])
def test_refusals(typed: str, words: str) -> None:
    with pytest.raises(BadQueryError, match=words) as caught:
        parse(typed)
    assert caught.value.code == "bad_query" and isinstance(caught.value, BadRequestError)


@pytest.mark.parametrize(("kind", "visibility", "data", "expected"), [
    ("chat", "public", {"body": "Printer jams"}, EventText("Printer jams", "")),
    ("chat", "internal", {"body": "Reset the spooler"}, EventText("", "Reset the spooler")),
    ("task", "public", {"task": {"title": "Call back", "note": "They owe us"}}, EventText("Call back", "They owe us")),
    ("task", "internal", {"task": {"title": "Call back", "note": "Staff only"}}, EventText("", "Call back\nStaff only")),
    ("member", "public", {"user": {}, "message": "Look at the MX"}, EventText("", "Look at the MX")),
    ("pin", "internal", {"seq": 3, "body": "Guidance"}, EventText("", "")),  # the pinned note is indexed already
    ("status", "public", {"status": "resolved"}, EventText("", "")),
    ("chat", "public", {"body": f"fake {OPEN}mark{CLOSE}"}, EventText("fake mark", "")),
])
def test_what_an_event_adds(kind: str, visibility: str, data: dict, expected: EventText) -> None:
    assert event_text(kind, visibility, data) == expected


def test_snippets_escape_all_but_the_marks() -> None:
    assert marked_html(f'<b>"x"</b> & {OPEN}printer{CLOSE}\n  jams') == \
        "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; <mark>printer</mark> jams"
