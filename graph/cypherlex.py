"""Cypher's lexical rules, as Neo4j 5 applies them, for the console's screen.

The console refuses queries by what their *code* says, so it must agree with the
server on where code ends and comments, strings and quoted names begin. A
screen that ends a ``//`` comment earlier or later than the server, or reads an
escape where the server reads a plain character, lets text the screen took for
a comment run as code. The rules below are the ones the server applies (each is
checked against the real server by ``tests/test_console_lexer.py``):

* a ``//`` comment runs to the next ``\\n`` or ``\\r`` — and only those: U+2028,
  U+2029, U+0085 and the other vertical spaces do *not* end it, although the
  server skips them as white space between tokens (see ``LINE_TERMINATORS``);
* ``/* … */`` comments do not nest;
* ``'…'`` and ``"…"`` strings: a backslash escapes the next character;
* `` `…` `` quoted names: no escapes at all, a doubled backtick is a backtick;
* white space is every character the server skips between tokens
  (``WHITESPACE``), including the unicode spaces.

``tokens()`` splits a query into typed tokens; everything else in the console
works on those tokens, never on the raw text.
"""
from __future__ import annotations

from dataclasses import dataclass

# The characters that end a // comment (verified against the server, see the module docstring).
LINE_TERMINATORS = frozenset("\n\r")
# Characters the server skips between tokens.
WHITESPACE = frozenset(
    "\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

SPACE, COMMENT, STRING, QUOTED_NAME, NAME, NUMBER, PARAMETER, SYMBOL = (
    "space", "comment", "string", "quoted_name", "name", "number", "parameter", "symbol")
TRIVIA = (SPACE, COMMENT)


class LexError(ValueError):
    """The text cannot be split into Cypher tokens (an unterminated string, name or comment)."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    def is_word(self, word: str) -> bool:
        return self.kind == NAME and self.text.upper() == word


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_name_part(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _scan_string(query: str, i: int) -> int:
    quote, j, n = query[i], i + 1, len(query)
    while j < n:
        if query[j] == "\\":
            j += 2
        elif query[j] == quote:
            return j + 1
        else:
            j += 1
    raise LexError(f"unterminated string starting at character {i + 1}")


def _scan_quoted_name(query: str, i: int) -> int:
    j, n = i + 1, len(query)
    while j < n:
        if query[j] == "`":
            if query[j + 1:j + 2] == "`":  # a doubled backtick is a backtick inside the name
                j += 2
                continue
            return j + 1
        j += 1
    raise LexError(f"unterminated quoted name starting at character {i + 1}")


def tokens(query: str) -> list[Token]:
    """The query as a list of tokens; raise LexError on an unterminated string, name or comment."""
    found: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch, two = query[i], query[i:i + 2]
        if ch in WHITESPACE:
            j = i + 1
            while j < n and query[j] in WHITESPACE:
                j += 1
            kind = SPACE
        elif two == "//":
            j = i + 2
            while j < n and query[j] not in LINE_TERMINATORS:
                j += 1
            kind = COMMENT
        elif two == "/*":
            end = query.find("*/", i + 2)
            if end < 0:
                raise LexError(f"unterminated comment starting at character {i + 1}")
            j, kind = end + 2, COMMENT
        elif ch in "'\"":
            j, kind = _scan_string(query, i), STRING
        elif ch == "`":
            j, kind = _scan_quoted_name(query, i), QUOTED_NAME
        elif ch == "$":
            j = i + 1
            if query[j:j + 1] == "`":
                j = _scan_quoted_name(query, j)
            else:
                while j < n and _is_name_part(query[j]):
                    j += 1
            kind = PARAMETER
        elif _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_part(query[j]):
                j += 1
            kind = NAME
        elif ch.isdigit():
            j = i + 1
            while j < n and (_is_name_part(query[j]) or query[j] == "."
                             and query[j + 1:j + 2].isdigit()):
                j += 1
            kind = NUMBER
        else:
            j, kind = i + 1, SYMBOL
        found.append(Token(kind, query[i:j], i))
        i = j
    return found


def code(found: list[Token]) -> list[Token]:
    """The tokens without white space and comments."""
    return [t for t in found if t.kind not in TRIVIA]


def normalised_code(found: list[Token]) -> str:
    """The text with comments and white space as one plain space and strings as ``''``."""
    return "".join(" " if t.kind in TRIVIA else "''" if t.kind == STRING else t.text for t in found)


@dataclass(frozen=True)
class Name:
    """A name in code position: ``text`` joins its parts with '.', ``called`` when '(' follows,
    ``procedure`` when CALL precedes it."""

    text: str
    parts: int
    quoted: bool
    called: bool
    procedure: bool


def names(found: list[Token]) -> tuple[list[Name], str]:
    """Every name in the code (white space and comments may sit between its dotted parts, a quoted
    part reads as its text) and the code as normalised text: comments and white space as one plain
    space, strings as ``''``, every dotted or quoted name as ``x``, so that keyword patterns can be
    matched against it (``apoc.create.uuid`` or ``n.set`` are not the keywords CREATE or SET)."""
    tokens_ = code(found)
    out: list[Name] = []
    text: list[str] = []
    i = 0
    while i < len(tokens_):
        token = tokens_[i]
        if token.kind not in (NAME, QUOTED_NAME):
            text.append("''" if token.kind == STRING else token.text)
            i += 1
            continue
        parts, quoted, j = [_part(token)], token.kind == QUOTED_NAME, i + 1
        while j + 1 < len(tokens_) and tokens_[j].text == "." and tokens_[j + 1].kind in (NAME, QUOTED_NAME):
            parts.append(_part(tokens_[j + 1]))
            quoted = quoted or tokens_[j + 1].kind == QUOTED_NAME
            j += 2
        called = j < len(tokens_) and tokens_[j].text == "("
        procedure = i > 0 and tokens_[i - 1].is_word("CALL")
        out.append(Name(".".join(parts), len(parts), quoted, called, procedure))
        text.append("x" if len(parts) > 1 or quoted else token.text)
        i = j
    return out, " ".join(text)


def _part(token: Token) -> str:
    return token.text[1:-1].replace("``", "`") if token.kind == QUOTED_NAME else token.text


def max_depth(found: list[Token]) -> int:
    """The deepest nesting of (), [] and {} in the code."""
    depth = deepest = 0
    for t in found:
        if t.kind == SYMBOL:
            if t.text in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif t.text in ")]}":
                depth -= 1
    return deepest
