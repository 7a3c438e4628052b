"""Token secrets: 32 random bytes, URL-safe, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

# Every secret starts with it, so a leaked one is easy to recognise (and to scan for).
SECRET_PREFIX = "weir_"
_SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
