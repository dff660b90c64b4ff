"""Request parameters, checked in one place: every route reads its query-string, form and JSON values here.

A value that does not fit answers 400 with a message naming the parameter and what it accepts (never a
500, never a silent default). Limits are named settings (docs/configuration.md, docs/web.md):

* ``LINKWATCH_WEB_MAX_JSON_BYTES``: size of a JSON request body (checked before it is parsed);
* ``LINKWATCH_WEB_MAX_JSON_DEPTH``: nesting of a JSON request body (a body nested beyond the parser's own
  recursion limit, such as 100,000 brackets, is refused as too deep rather than ending in RecursionError);
* ``LINKWATCH_WEB_MAX_PAGE``: the highest page number of a paged list;
* ``LINKWATCH_WEB_MAX_PARAM_CHARS``: characters of one text parameter.

Every JSON body is also checked as a whole (``check_json_body``, run before each view): it must be an
object (every JSON endpoint takes one), integers must fit
Neo4j's 64-bit integers, numbers must be finite (``1e400`` parses as infinity), strings must be real
Unicode (a lone surrogate such as ``"\\ud800"`` cannot be stored or sent to Neo4j).
"""
from __future__ import annotations

import math
import re
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from graph.config import setting

INT64 = (-(2 ** 63), 2 ** 63 - 1)
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


class ParamError(BadRequest):
    """A request parameter that does not fit: 400 with ``description`` as the message."""

    def __init__(self, message: str):
        super().__init__(description=message)


def max_page() -> int:
    return int(setting("LINKWATCH_WEB_MAX_PAGE"))


def max_chars() -> int:
    return int(setting("LINKWATCH_WEB_MAX_PARAM_CHARS"))


def max_json_depth() -> int:
    return int(setting("LINKWATCH_WEB_MAX_JSON_DEPTH"))


def max_json_bytes() -> int:
    return int(setting("LINKWATCH_WEB_MAX_JSON_BYTES"))


# ---- plain values (from anywhere) -------------------------------------------------------------------------

def to_int(value: Any, name: str, lo: int, hi: int) -> int:
    """``value`` (text or JSON number) as an integer in [lo, hi]."""
    if isinstance(value, bool):
        raise ParamError(f"{name} must be a whole number from {lo:,} to {hi:,}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            raise ParamError(f"{name} must be a whole number from {lo:,} to {hi:,} (got {_shown(value)})")
        value = int(text)
    if not isinstance(value, int) or not lo <= value <= hi:
        raise ParamError(f"{name} must be a whole number from {lo:,} to {hi:,} (got {_shown(value)})")
    return value


def to_float(value: Any, name: str, lo: float, hi: float) -> float:
    """``value`` (text or JSON number) as a finite number in [lo, hi] (``inf``, ``nan``, ``1e999`` refused)."""
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not lo <= number <= hi:
        raise ParamError(f"{name} must be a number from {lo:g} to {hi:g} (got {_shown(value)})")
    return number


def to_text(value: Any, name: str, max_len: int | None = None, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParamError(f"{name} must be text (got {type(value).__name__})")
    limit = max_len or max_chars()
    if len(value) > limit:
        raise ParamError(f"{name} holds at most {limit:,} characters (got {len(value):,})")
    if required and not value.strip():
        raise ParamError(f"{name} is required")
    return value


def to_choice(value: Any, name: str, choices) -> str:
    if value not in choices:
        raise ParamError(f"{name} must be one of {', '.join(choices)} (got {_shown(value)})")
    return value


def to_text_list(value: Any, name: str, max_items: int) -> list[str]:
    """A JSON list of strings (each non-empty after trimming; duplicates dropped, order kept)."""
    if not isinstance(value, list):
        raise ParamError(f"{name} must be a list of strings (got {type(value).__name__})")
    if len(value) > max_items:
        raise ParamError(f"{name}: at most {max_items:,} items at a time (got {len(value):,})")
    if not all(isinstance(item, str) for item in value):
        raise ParamError(f"{name} must be a list of strings")
    return list(dict.fromkeys(item.strip() for item in value if item.strip()))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- from the request -------------------------------------------------------------------------------------

def int_arg(name: str, default: int, lo: int, hi: int | None = None) -> int:
    """Query-string integer (absent or empty: ``default``); ``hi`` defaults to LINKWATCH_WEB_MAX_PAGE."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return to_int(raw, name, lo, max_page() if hi is None else hi)


def page_arg() -> int:
    return int_arg("page", 1, 1)


def float_arg(name: str, default: float, lo: float, hi: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return to_float(raw, name, lo, hi)


def text_arg(name: str, default: str = "") -> str:
    return to_text(request.args.get(name, default), name)


def choice_arg(name: str, default: str, choices) -> str:
    raw = request.args.get(name)
    return default if raw is None or raw == "" else to_choice(raw, name, choices)


def flag_arg(name: str, default: bool) -> bool:
    """``1`` or ``0`` (absent: ``default``)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return to_choice(raw, name, ("1", "0")) == "1"


def json_object() -> dict:
    """The request's JSON body, which must be an object (400 otherwise)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ParamError("send a JSON object as the request body")
    return body


# ---- the JSON body as a whole ----------------------------------------------------------------------------

def check_value(value: Any, max_depth: int | None = None, where: str = "body") -> None:
    """Raise ParamError unless every part of a decoded JSON value can be used and stored (see module doc)."""
    limit = max_json_depth() if max_depth is None else max_depth
    stack = [(value, 0, where)]  # (item, nesting depth, top-level key it sits under)
    pop, push = stack.pop, stack.append
    while stack:
        item, depth, path = pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                _check_unicode(item, path)
        elif kind is int:
            if not INT64[0] <= item <= INT64[1]:
                raise ParamError(f"{path}: integer out of range (at most 64 bits: {INT64[0]} to {INT64[1]})")
        elif kind is float:
            if not math.isfinite(item):
                raise ParamError(f"{path}: numbers must be finite (NaN, Infinity and 1e400-like values are refused)")
        elif kind is list or kind is dict:
            if depth >= limit:
                raise ParamError(f"the JSON body is nested deeper than {limit} levels (LINKWATCH_WEB_MAX_JSON_DEPTH)")
            if kind is dict:
                for key, child in item.items():
                    if not key.isascii():
                        _check_unicode(key, f"{path} key")
                    push((child, depth + 1, f"{path}.{key[:40]}" if depth == 0 else path))
            else:
                for child in item:
                    push((child, depth + 1, path))


def _check_unicode(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamError(f"{path}: text holds a lone surrogate (\\ud800-\\udfff), which is not Unicode") from None


def check_json_body() -> None:
    """Before every view: a JSON body too large, too deeply nested, not an object, or holding values no view
    can use answers 400 (the view then reads the already decoded body)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return
    if (request.content_length or 0) > max_json_bytes():
        raise ParamError(f"a JSON body holds at most {max_json_bytes():,} bytes (LINKWATCH_WEB_MAX_JSON_BYTES)")
    raw = request.get_data(cache=True)
    if not raw:
        return
    if len(raw) > max_json_bytes():
        raise ParamError(f"a JSON body holds at most {max_json_bytes():,} bytes (LINKWATCH_WEB_MAX_JSON_BYTES)")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested beyond the parser's own limit (about a thousand levels)
        raise ParamError(f"the JSON body is nested deeper than {max_json_depth()} levels "
                         "(LINKWATCH_WEB_MAX_JSON_DEPTH)") from None
    if body is not None:
        if not isinstance(body, dict):  # every JSON endpoint of the app takes an object
            raise ParamError(f"send a JSON object as the request body (got a {type(body).__name__})")
        check_value(body)
