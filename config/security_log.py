"""Security events on the `security` logger, one structured line each: the event name first, then key=value
pairs in a fixed order (`event=rate_limited scope=spin ip=203.0.113.7 user_id=42 ...`), and the same fields on the
log record as `record.security` (a dict) for handlers that ship JSON. The client IP is always `client_ip()`'s."""

from __future__ import annotations

import logging
from typing import Any

from config.client_ip import client_ip

logger = logging.getLogger("security")


def _value(value: Any) -> str:
    text = str(value)
    # One line, no spoofed fields: whitespace and "=" inside a value cannot start a new key=value pair.
    return "".join("_" if ch.isspace() or ch == "=" or not ch.isprintable() else ch for ch in text)[:200] or "-"


def security_event(event: str, *, request: Any = None, level: int = logging.WARNING, **fields: Any) -> None:
    """Log `event` with `fields`. Given a request, `ip` (the trusted client IP) and `user_id` are filled in
    unless passed explicitly."""
    record: dict[str, Any] = {"event": event}
    if request is not None:
        record["ip"] = client_ip(request)
        user = getattr(request, "user", None)
        record["user_id"] = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    record.update(fields)
    logger.log(
        level,
        " ".join(f"{key}={_value(value)}" for key, value in record.items()),
        extra={"security": record},
    )
