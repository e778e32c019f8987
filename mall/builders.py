"""Builders for the mall: shared by tests, bench/ and `seed_demo` (plain functions, like campaigns/builders.py).
Products go through mall.catalogue.product_save, codes through the code pool import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from campaigns.models import Campaign
from mall.catalogue import product_save
from mall.codes import code_pool_import
from mall.models import Category, CodePool, Delivery, Product, Supplier


def category_build(*, slug: str = "books", name: str = "图书", name_en: str = "Books", **fields: Any) -> Category:
    """A category (get or create by slug)."""
    category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": name, "name_en": name_en, **fields})
    return category


def supplier_build(*, name: str = "示例供应商", name_en: str = "Demo Supplier", **fields: Any) -> Supplier:
    """A supplier (get or create by name)."""
    supplier, _ = Supplier.objects.get_or_create(name=name, defaults={"name_en": name_en, **fields})
    return supplier


def pool_build(
    *, codes: int = 0, name: str = "兑换码", prefix: str = "CODE", supplier: Supplier | None = None
) -> CodePool:
    """A code pool holding `codes` codes PREFIX-00001, PREFIX-00002..."""
    pool = CodePool.objects.create(name=name, supplier=supplier)
    if codes:
        code_pool_import(pool=pool, text="\n".join(f"{prefix}-{i:05d}" for i in range(1, codes + 1)))
    return pool


def product_build(
    *,
    campaign: Campaign,
    delivery: str = Delivery.INSTRUCTIONS,
    name: str = "电影票",
    name_en: str = "Movie ticket",
    points_price: int = 100,
    stock: int = 10,
    **fields: Any,
) -> Product:
    """A listed product of `campaign`, valid for its delivery by default: instructions in both languages, a code
    pool of 20 codes for `code`, shipping for `physical`, a 50-point card for `virtual`; `fields` override any
    product field (category: the "books" category unless given)."""
    defaults: dict[str, Any] = {"unit_cost_cny": Decimal("10.00")}
    if delivery == Delivery.INSTRUCTIONS:
        defaults.update(instructions="到店出示即可使用。", instructions_en="Show this at the counter.")
    if delivery == Delivery.CODE and "code_pool" not in fields:
        defaults["code_pool"] = pool_build(codes=20, prefix=f"P{Product.objects.count() + 1}")
    if delivery == Delivery.PHYSICAL:
        defaults.update(physical_methods="shipping", pickup_location="", pickup_location_en="")
    if delivery == Delivery.VIRTUAL:
        defaults.update(virtual_kind="points_card", virtual_points=50)
    if "category" not in fields:
        defaults["category"] = category_build()
    product = Product(
        campaign=campaign,
        delivery=delivery,
        name=name,
        name_en=name_en,
        points_price=points_price,
        stock=stock,
        **{**defaults, **fields},
    )
    return product_save(product=product)
