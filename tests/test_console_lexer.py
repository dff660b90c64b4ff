"""The console's lexical screen agrees with the real server on where code ends.

Differential tests: the same text is given to ``graph/cypherlex.py`` and to Neo4j's own parser
(``EXPLAIN``, which plans without running). Whenever the server would see a piece of code, the
screen must see it too — otherwise a function hidden in what the screen took for a comment, a
string or a quoted name would run unchecked.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j.exceptions import Neo4jError

from graph import console, cypherlex, db

# Characters worth checking one by one: controls, every unicode space, the line and paragraph separators.
CANDIDATES = sorted(set(map(chr, range(0x00, 0x21))) | {"\x7f", "\x85", "\xa0", "\u1680", "\u180e", "\u200b",
                                                        "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"}
                    | set(map(chr, range(0x2000, 0x200b))))


def _server_columns(query: str) -> list[str] | None:
    """The columns the server would return, or None when it cannot parse or plan the query."""
    try:
        with db.driver().session(database=db.database()) as session:
            result = session.run("EXPLAIN " + query)
            keys = list(result.keys())
            result.consume()
            return keys
    except Neo4jError:
        return None


def _screen_columns_end_with_b(query: str) -> bool | None:
    try:
        code = cypherlex.code(cypherlex.tokens(query))
    except cypherlex.LexError:
        return None
    return [t.text for t in code[-3:]] == [")", "AS", "b"] or [t.text for t in code[-3:]] == ["2", "AS", "b"]


@pytest.mark.parametrize("ch", CANDIDATES, ids=lambda c: f"U+{ord(c):04X}")
def test_line_terminators_match_the_server(neo4j, ch):
    query = f"RETURN 1 AS a //{ch}, 2 AS b"
    server_sees_b = _server_columns(query) == ["a", "b"]
    assert server_sees_b == (ch in cypherlex.LINE_TERMINATORS)
    assert _screen_columns_end_with_b(query) == server_sees_b


@pytest.mark.parametrize("ch", CANDIDATES, ids=lambda c: f"U+{ord(c):04X}")
def test_whitespace_matches_the_server(neo4j, ch):
    server_accepts = _server_columns(f"RETURN{ch}1{ch}AS{ch}a") == ["a"]
    assert server_accepts == (ch in cypherlex.WHITESPACE)


EXPLICIT = [
    # (text between `RETURN 1 AS a` and the hidden function; the screen must refuse whenever the server sees it)
    " // \r",
    " // \u2028",
    " // \u2029",
    " /* // */\n",
    " , 1 AS `x\\` ",
    " , 1 AS `x``y` ",
    " , 'it\\'s' AS s ",
    ' , "say \\"hi\\"" AS s ',
    " , '\\\\' AS s ",
    " /* ' */ ",
    " // ' \n",
]


@pytest.mark.parametrize("gap", EXPLICIT)
def test_hidden_function_is_refused_whenever_the_server_sees_it(neo4j, gap):
    query = f"RETURN 1 AS a{gap}, gds.graph.exists('nope') AS b"
    if (_server_columns(query) or [])[-1:] == ["b"]:
        with pytest.raises(console.QueryRefused):
            console.screen(query)


PIECES = st.sampled_from(["a", " ", "\\", "'", '"', "`", "``", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b",
                          "\x0c", "/", "*", "//", "/*", "*/", ",", "$", "."])
TEXT = st.lists(PIECES, max_size=8).map("".join)
ELEMENT = st.one_of(
    st.sampled_from(CANDIDATES),
    TEXT.map(lambda t: "//" + t),
    TEXT.map(lambda t: "/*" + t + "*/"),
    TEXT.map(lambda t: f", '{t}' AS s"),
    TEXT.map(lambda t: f', "{t}" AS s'),
    TEXT.map(lambda t: f", 1 AS `{t}`"),
)
# every RETURN item gets its own alias (s0, s1, …): duplicate column names would only be a server error
GAPS = st.lists(ELEMENT, max_size=5).map(lambda items: "".join(e.replace(" AS s", f" AS s{i}")
                                                               for i, e in enumerate(items)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gap=GAPS)
def test_screen_sees_what_the_server_sees(neo4j, gap):
    """Generated comment / quote / escape / unicode combinations: wherever the server reads the last
    item as code, so does the screen, and a namespaced function there is refused."""
    plain = f"RETURN 1 AS a{gap}\n, 2 AS b"
    columns = _server_columns(plain)
    if columns is not None:
        assert _screen_columns_end_with_b(plain) == (columns[-1:] == ["b"]), (plain, columns)
    smuggled = f"RETURN 1 AS a{gap}\n, gds.graph.exists('nope') AS b"
    columns = _server_columns(smuggled)
    if columns is not None and columns[-1:] == ["b"]:
        with pytest.raises(console.QueryRefused):
            console.screen(smuggled)
