"""Where a sign-up comes from, as the fraud checks of invites see it (referrals.services.SignupContext): the client's
IP address and a device fingerprint.

- **IP**: config.client_ip.client_ip, the one answer of the project (trusted proxies only; X-Forwarded-For entries
  a client wrote itself never count). The fraud checks count sign-ups per address and per /24 (IPv6: /48) network.
- **Device**: a hash (referrals.services.device_hash) of a first-party cookie (`pm_device`: a random token this site
  sets when an invite link is opened or the invite page is shown, kept a year) and what the browser says about
  itself: the client hints Sec-CH-UA-Platform and Sec-CH-UA-Mobile, Accept-Language and User-Agent. Without the
  cookie (the mobile app's API calls, a browser that opened no invite link) the hash is of those headers and the
  /24 network, so that every phone of the same model and language in the country does not count as one device.

What it cannot do, and the review queue is there for:
- Cookies cleared, private windows and a fresh browser profile per account give a new device each time; the IP and
  network bursts, the per-inviter bursts and caps still catch such a farm, the device alone does not.
- Emulators and device farms can send any headers they like (all of this is what the client says about itself).
  No fingerprint is proof; it only sends the invite to review, never rejects it by itself.
- Shared Wi-Fi, carrier-grade NAT and offices put many honest people behind one address or network, and identical
  phones without the cookie look alike: thresholds are per campaign (Program.device_max, ip_hourly_max,
  subnet_hourly_max) and a suspicion holds back only the invite's rewards, never a member's own points.
- Chromium sends Sec-CH-UA-* only over HTTPS (and localhost); Safari and Firefox do not send them at all.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from config.client_ip import client_ip
from referrals.services import SignupContext, device_hash, network_of

DEVICE_COOKIE = "pm_device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600
DEVICE_TOKEN_MAX = 64  # a longer cookie value is someone else's, ignored
HEADER_MAX = 300  # each header's part of the fingerprint


def _device_cookie(request: Any) -> str:
    value = str(request.COOKIES.get(DEVICE_COOKIE, "") or "")
    return value if 0 < len(value) <= DEVICE_TOKEN_MAX and value.isascii() and value.isalnum() else ""


def device_cookie_set(request: Any, response: HttpResponse) -> None:
    """Give the browser its first-party device cookie if it has none (HttpOnly: no script reads it)."""
    if _device_cookie(request):
        return
    response.set_cookie(
        DEVICE_COOKIE,
        secrets.token_hex(16),
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def signup_context(request: Any) -> SignupContext:
    """The SignupContext of a request (a Django HttpRequest, or DRF's Request that proxies META and COOKIES)."""
    meta = request.META
    ip = client_ip(request) or None
    cookie = _device_cookie(request)
    headers = [
        str(meta.get(name, "") or "")[:HEADER_MAX]
        for name in ("HTTP_SEC_CH_UA_PLATFORM", "HTTP_SEC_CH_UA_MOBILE", "HTTP_ACCEPT_LANGUAGE", "HTTP_USER_AGENT")
    ]
    if cookie:
        device = device_hash(cookie, *headers)
    elif any(headers):
        device = device_hash("", *headers, network_of(ip))
    else:
        device = ""
    return SignupContext(ip=ip, device=device)
