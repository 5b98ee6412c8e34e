"""The search query language: parsed once, read alike by PostgreSQL (websearch) and SQLite (FTS5), never syntax."""

from __future__ import annotations

import sqlite3

import pytest

from livesupport.domain.errors import BadRequestError
from livesupport.domain.people import Person, Role
from livesupport.domain.search import (
    CLOSE,
    MAX_QUERY,
    OPEN,
    SCOPE_MARK,
    BadQueryError,
    EventText,
    document_scope,
    event_text,
    fts5,
    marked_html,
    parse,
    scope_tokens,
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


def test_a_scope_puts_the_documents_of_those_tokens_first() -> None:
    o1 = SCOPE_MARK + "o1"
    assert fts5(parse("printer -toner"), ("subject", "public_text"), (o1, SCOPE_MARK + "p1")) == \
        f'scope : ("{o1}" OR "{SCOPE_MARK}p1") AND {{subject public_text}} : (("printer") NOT "toner")'
    assert fts5(parse("printer"), None, ()) == '"printer"'  # no scope given: the caller says what none means


@pytest.mark.parametrize(("person", "tokens"), [
    (Person(1, "Staff", Role.STAFF, tier=2), None),
    (Person(2, "Admin", Role.ADMIN), None),
    (Person(3, "Client", Role.CLIENT, org_id=7), ("o7",)),
    (Person(4, "IT", Role.DOMAIN_ADMIN, org_id=7), ("o7",)),
    (Person(5, "Partner", Role.PARTNER, org_id=9), ("o9", "p9")),
    (Person(6, "Billing", Role.BILLING), ()),  # no organisation: nothing (as visible_to)
])
def test_scope_tokens_say_what_visible_to_says(person: Person, tokens: tuple[str, ...] | None) -> None:
    expected = None if tokens is None else tuple(SCOPE_MARK + t for t in tokens)
    assert scope_tokens(person) == expected


def test_scope_tokens_narrow_sqlite_and_no_typed_word_is_one() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(subject, public_text, internal_text, scope, "
               "tokenize = 'porter unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO t (rowid, subject, public_text, internal_text, scope) VALUES (?, ?, ?, '', ?)", [
        (1, "Printer", "o1 p2", document_scope(1, None)),
        (2, "Printer", "", document_scope(3, 2)),
        (3, "Printer", "", document_scope(4, None)),
    ])
    public = ("subject", "public_text")

    def found(typed: str, person: Person) -> set[int]:
        expr = fts5(parse(typed), None if person.is_staff else public, scope_tokens(person))
        return {r for (r,) in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,))}

    assert found("printer", Person(1, "C", Role.CLIENT, org_id=1)) == {1}
    assert found("printer", Person(2, "P", Role.PARTNER, org_id=2)) == {2}  # its client's (org 3)
    assert found("printer", Person(3, "C", Role.CLIENT, org_id=3)) == {2}
    assert found("printer", Person(4, "S", Role.STAFF, tier=2)) == {1, 2, 3}
    for typed in ("o1", "p2", "o4", "o3 OR p2", f"{SCOPE_MARK}o4", "scope"):  # only the words of ticket 1's text
        assert found(typed, Person(4, "S", Role.STAFF, tier=2)) <= {1}, typed


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
