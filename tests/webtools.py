"""Helpers for tests of the web app: one password, CSRF tokens, session login, bearer headers."""
from __future__ import annotations

import re

from app import auth

PASSWORD = "correct horse battery"


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token rendered in the page at ``path``."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(client, name: str, password: str = PASSWORD):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_token(client)})


def bearer(name: str) -> dict[str, str]:
    """Authorization header with a new API token of user ``name``."""
    return {"Authorization": f"Bearer {auth.create_token(name)}"}
