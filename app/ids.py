"""URL converters for identifiers that are attacker-chosen: account ids, identifier values, case subjects.

An id may hold any character — ``/``, ``%``, ``?``, ``#``, spaces, dots, unicode. ``url_for`` writes a plain id
(letters, digits and ``. _ @ : + = , -``, not starting with ``.`` or ``~``) as it is, and any other id as
``~`` + its UTF-8 in unpadded URL-safe base64, so that no browser, proxy or router can re-read it (dot segments,
``%2F``, merged slashes). Reading a URL accepts both forms, so ``/accounts/acct-1`` can be typed, and a JSON
API client may also send the id percent-encoded as it is (``anyid`` routes end with the id, slashes and all).
"""
from __future__ import annotations

import base64
import binascii
import re

from werkzeug.routing import BaseConverter, ValidationError

PLAIN = re.compile(r"[A-Za-z0-9_@:+=,-][A-Za-z0-9._@:+=,-]*")
MARK = "~"


def encode(value) -> str:
    text = str(value)
    if PLAIN.fullmatch(text):
        return text
    return MARK + base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("=")


def decode(segment: str) -> str:
    if not segment.startswith(MARK):
        return segment
    packed = segment[len(MARK):]
    try:
        return base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return segment  # an id that merely starts with "~", typed by hand


class IdConverter(BaseConverter):
    """One path segment holding an id of any characters (see the module doc)."""

    def to_python(self, value: str) -> str:
        if not value:
            raise ValidationError()
        return decode(value)

    def to_url(self, value) -> str:
        return encode(value)


class AnyIdConverter(IdConverter):
    """The rest of the path as one id (for routes that end with it): raw slashes are part of the id."""

    regex = ".+"
    part_isolating = False
    weight = 200
