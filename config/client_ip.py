"""The one answer to "which address is this request from?". Every rate limit, the login lockout (django-axes,
AXES_CLIENT_IP_CALLABLE), DRF throttles and every security log line use it.

`X-Forwarded-For` is written by whoever sends the request, so it is only believed as far as our own proxies wrote
it: each trusted proxy appends the address it received the connection from on the right. With
`TRUSTED_PROXY_COUNT = 0` (the default: gunicorn faces the clients) the header is ignored and the address is
REMOTE_ADDR. With N trusted proxies it is the N-th entry from the right; entries further left are the client's
own claims and never count. A header with fewer entries than N (the request did not pass all our proxies) or an
entry that is not an IP address falls back to REMOTE_ADDR."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _parse_ip(raw: str) -> str | None:
    """The normalised address in one X-Forwarded-For entry (a port some proxies add is dropped), or None."""
    value = raw.strip()
    candidates = [value]
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        candidates.append(value[1 : value.index("]")])
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        candidates.append(value.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def client_ip(request: Any) -> str:
    """The client's address as far as it can be trusted (see the module docstring). Takes a Django HttpRequest or
    anything with `.META` (DRF's Request proxies it)."""
    meta = request.META
    remote = str(meta.get("REMOTE_ADDR") or "")
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    entries = [entry for entry in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if entry.strip()]
    if len(entries) < trusted:
        return remote
    return _parse_ip(entries[-trusted]) or remote
