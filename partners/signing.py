"""The partner request signature, as a partner computes it (pure; no database).

A key's secret is shown once. Partners and the server both derive the signing key sha256(secret) (hex) from
it; a request is signed with hex HMAC-SHA256(key=signing key, msg=f"{X-Timestamp}.{raw body}")."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

MAX_CLOCK_SKEW = timedelta(minutes=5)


def signing_key_for(secret: str) -> str:
    """The derived signing key partners sign with and the server stores (the secret itself is never kept)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def request_signature(*, signing_key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(signing_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_matches(*, signing_key: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Constant-time comparison of a received signature (hex, any case, surrounding blanks ignored)."""
    expected = request_signature(signing_key=signing_key, timestamp=timestamp, body=body)
    received = (signature or "").strip().lower().encode("ascii", "replace").decode()
    return hmac.compare_digest(expected, received)
