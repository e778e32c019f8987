"""Money and rates as the partner portal writes them, the same in both languages: `{{ amount|cny }}` → "49,999.99"
(yuan, two places, grouped by thousands), `{{ rate|percent }}` → "3.5" (no trailing zeros)."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def cny(value: Decimal | int | None) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def percent(value: Decimal | int | None) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value).normalize():f}"
