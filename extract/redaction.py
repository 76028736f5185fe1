"""Credentials never leave the process: every configured credential value, and anything shaped
like an `Authorization` header or a bearer/basic credential, becomes `***` in error messages, log
lines and tracebacks, whatever a server echoed back."""

from __future__ import annotations

import base64
import re

MASK = "***"
_SHAPES = re.compile(
    r"(?i)(?P<header>authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?[^\s\"',;\\]+"
    r"|(?P<scheme>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"
)
_SECRETS: set[str] = set()


def register(*values: str | None) -> None:
    """Values to mask from now on (the settings register every credential they read)."""
    for value in values:
        if value and len(value) >= 4:  # shorter ones would mask ordinary text
            _SECRETS.add(value)


def register_basic(user: str | None, password: str | None) -> None:
    """A user and password, and the HTTP Basic credential they make."""
    register(user, password)
    if user and password:
        register(base64.b64encode(f"{user}:{password}".encode()).decode())


def redact(text: str) -> str:
    """`text` with every registered value and credential-shaped string masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _SHAPES.sub(lambda m: (m.group("header") or m.group("scheme")) + MASK, text)
