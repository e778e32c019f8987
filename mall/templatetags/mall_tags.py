"""Template helpers of the mall pages: texts stored in both languages (model instances and the catalogue's
values() rows alike) and stored files' URLs."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.files.storage import default_storage

from config.i18n import is_english

register = template.Library()


@register.filter
def localized(obj: Any, field: str) -> str:
    """`obj.<field>_en` for English readers when filled in, else `obj.<field>` (config.i18n.localized), for a
    model instance or a dict (a values() row): `{{ row|localized:"name" }}`."""
    if isinstance(obj, dict):
        english = obj.get(f"{field}_en") or ""
        if is_english() and str(english).strip():
            return str(english)
        return str(obj.get(field) or "")
    if is_english():
        english = getattr(obj, f"{field}_en", "") or ""
        if str(english).strip():
            return str(english)
    return str(getattr(obj, field, "") or "")


@register.filter
def media_url(name: Any) -> str:
    """The URL of a stored file by its name (a values() row holds the name, not a FieldFile); '' for none."""
    return default_storage.url(str(name)) if name else ""
