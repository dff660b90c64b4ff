"""Errors a user can cause or fix. The CLI prints their message on one line and exits non-zero."""


class LinkwatchError(Exception):
    """Base class: the message says what went wrong and what to do about it."""

    exit_code = 2


class Neo4jUnavailable(LinkwatchError):
    """Neo4j cannot be reached or refused our credentials."""


class GdsMissing(LinkwatchError):
    """The server answers but has no Graph Data Science plugin."""


class RuntimeSetupError(LinkwatchError):
    """The managed Neo4j could not be resolved, configured or started."""
