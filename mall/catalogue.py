"""Every write of the catalogue: categories, suppliers, products (validated, with their thumbnails) and stock
top-ups. Orders are in mall/orders.py, code pools in mall/codes.py, settlement in mall/settlement.py."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.config_cache import config_changed
from mall.models import Delivery, Product


def product_check(*, product: Product) -> None:
    """What a product must hold for its delivery type, beyond the CHECK constraints: a pool for codes, a method for
    goods, the card's figures for virtual items, instructions in both languages for instruction items. Raises
    ValidationError with per-field messages."""
    problems: dict[str, str] = {}
    if product.delivery == Delivery.CODE and product.code_pool_id is None:
        problems["code_pool"] = _("Choose the code pool the codes come from.")
    both = product.instructions.strip() and product.instructions_en.strip()
    if product.delivery == Delivery.INSTRUCTIONS and not both:
        problems["instructions"] = _("Write the instructions in both languages.")
    if product.delivery == Delivery.PHYSICAL:
        if not product.physical_methods:
            problems["physical_methods"] = _("Choose shipping, store pickup or both.")
        if product.physical_methods in ("pickup", "both") and not product.pickup_location.strip():
            problems["pickup_location"] = _("Say where members pick the goods up.")
    if product.delivery == Delivery.VIRTUAL:
        if product.virtual_kind == "points_card" and not product.virtual_points:
            problems["virtual_points"] = _("Say how many points the card gives.")
        if product.virtual_kind == "multiplier_card" and not (
            product.multiplier_percent and product.multiplier_percent > 100 and product.multiplier_hours
        ):
            problems["multiplier_percent"] = _("A multiplier card needs a percentage above 100 and its hours.")
        if not product.virtual_kind:
            problems["virtual_kind"] = _("Choose the virtual item.")
    if problems:
        raise ValidationError(problems)


def product_save(*, product: Product) -> Product:
    """Validate (model fields, then product_check) and save a product; bumps the configuration version."""
    product.full_clean(exclude=["thumbnail"])
    product_check(product=product)
    with transaction.atomic():
        product.save()
        config_changed()
    return product
