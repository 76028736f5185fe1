"""Credentials are masked in any text the run writes: registered values, and what is shaped like
an Authorization header or a bearer/basic credential."""

from __future__ import annotations

import base64

import orjson
import pytest

from extract.redaction import redact, register, register_basic


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer tok-9f8e7d6c5b4a",
        'headers: {"authorization": "Basic dXNlcjpzZWNyZXQ="}',
        "authorization=Token 0123456789abcdef",
        "then Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig was sent",
    ],
)
def test_credential_shapes_are_masked_whoever_configured_them(text: str) -> None:
    masked = redact(text)
    assert "***" in masked
    secrets = ("tok-9f8e7d6c5b4a", "dXNlcjpzZWNyZXQ=", "0123456789abcdef", "e30.sig")
    assert not any(secret in masked for secret in secrets)


def test_registered_values_are_masked_anywhere_and_json_stays_json() -> None:
    register("live-token-5e4d3c2b")
    register_basic("analyst@example.org", "v1-key-a1b2c3d4")
    basic = base64.b64encode(b"analyst@example.org:v1-key-a1b2c3d4").decode()
    text = f"echo: token=live-token-5e4d3c2b key v1-key-a1b2c3d4 basic {basic}"
    masked = redact(text)
    assert "live-token-5e4d3c2b" not in masked and "v1-key-a1b2c3d4" not in masked and basic not in masked
    echoed = "You sent:\nAuthorization: Bearer live-token-5e4d3c2b\nAccept: */*\n"
    body = orjson.dumps({"error": echoed}).decode()
    assert orjson.loads(redact(f'{{"message": {orjson.dumps(body).decode()}}}'))["message"].count("***") == 1


def test_ordinary_text_is_left_alone() -> None:
    text = "domestic 2024-01 certs: done (checkpointed), 3 pages, 120 rows; basic fuel: mains gas"
    assert redact(text) == text
