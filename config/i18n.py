"""Texts stored in both languages: the one rule for picking the reader's.

Models keep what members read twice, `<field>` (Chinese, required) and `<field>_en` (English, may be blank);
`localized(obj, "name")` gives the English text to English readers when there is one, else the Chinese."""

from __future__ import annotations

from typing import Any

from django.utils import translation


def is_english(language: str | None = None) -> bool:
    """Whether `language` (default: the active language) is English (en, en-us, en-gb...)."""
    code = (language or translation.get_language() or "").lower()
    return code == "en" or code.startswith("en-")


def localized(obj: Any, field: str, *, language: str | None = None) -> str:
    """`obj.<field>_en` for English readers when it is filled in, otherwise `obj.<field>`."""
    if is_english(language):
        english = getattr(obj, f"{field}_en", "") or ""
        if english.strip():
            return str(english)
    return str(getattr(obj, field) or "")
