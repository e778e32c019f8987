"""Codes people read aloud, type from a poster or scan: pickup codes, membership vouchers, generated pool codes,
invite codes. One alphabet without look-alikes (no 0/O, 1/I/L) and one way to draw and to read them back."""

from __future__ import annotations

import secrets

UNAMBIGUOUS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: log2(31) ≈ 4.95 bits a character


def random_code(length: int) -> str:
    """A code of `length` characters drawn with `secrets` from UNAMBIGUOUS: one uniform draw below 31**length, written
    in base 31 (one read of the OS's random source, not one a character: a spin makes a voucher code every time)."""
    value = secrets.randbelow(len(UNAMBIGUOUS) ** length)
    chars = []
    for _ in range(length):
        value, digit = divmod(value, len(UNAMBIGUOUS))
        chars.append(UNAMBIGUOUS[digit])
    return "".join(chars)


def code_normalize(raw: str, *, max_length: int = 16) -> str:
    """A code as typed or scanned: upper case, without spaces and dashes; '' when it cannot be one (too long, or
    a character outside the alphabet)."""
    code = (raw or "").strip().upper().replace("-", "").replace(" ", "")
    if not code or len(code) > max_length or any(ch not in UNAMBIGUOUS for ch in code):
        return ""
    return code
