"""Every write of the catalogue: categories, suppliers, products (validated, with their thumbnails) and stock
top-ups. Orders are in mall/orders.py, code pools in mall/codes.py, settlement in mall/settlement.py."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from config.config_cache import config_changed
from mall.errors import ProductNotFound, StockNegative
from mall.models import Category, Delivery, Product, StockMove, Supplier

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 4000
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
THUMBNAIL_SIDE = 400
MAX_STOCK_DELTA = 1_000_000
MAX_REASON = 200


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


# --- Pictures -------------------------------------------------------------------------------------------------


def _image_bytes(image: Any) -> bytes:
    """At most MAX_IMAGE_BYTES + 1 bytes of a picture: a FieldFile's stored file, or the upload it holds."""
    if getattr(image, "_committed", True):
        with image.storage.open(image.name, "rb") as stored:
            return bytes(stored.read(MAX_IMAGE_BYTES + 1))
    handle = image.file
    handle.seek(0)
    data = bytes(handle.read(MAX_IMAGE_BYTES + 1))
    handle.seek(0)
    return data


def product_image_thumbnail(*, data: bytes) -> bytes:
    """Check a product picture and make its thumbnail. The picture must be a real JPEG, PNG or WebP image (Pillow
    opens, verifies and decodes it), at most 5 MB and 4000 × 4000 pixels; the thumbnail is a WebP at most 400 ×
    400, upright (EXIF orientation applied), proportions kept. Raises ValidationError({"image": ...})."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError({"image": _("The picture is larger than 5 MB. Save a smaller one and retry.")})
    not_a_picture = _("Upload a JPEG, PNG or WebP picture; this file is not one (or it is damaged).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in IMAGE_FORMATS:
                raise ValidationError({"image": not_a_picture})
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise ValidationError(
                    {
                        "image": _("The picture is %(w)d × %(h)d pixels; at most %(max)d × %(max)d are allowed.")
                        % {"w": width, "h": height, "max": MAX_IMAGE_SIDE}
                    }
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            upright = ImageOps.exif_transpose(picture)
            upright.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            if upright.mode not in ("RGB", "RGBA"):
                upright = upright.convert("RGBA" if "transparency" in upright.info or "A" in upright.mode else "RGB")
            out = io.BytesIO()
            upright.save(out, format="WEBP", quality=85)
    except Image.DecompressionBombError as exc:
        raise ValidationError(
            {"image": _("The picture is too large in pixels; at most %(max)d × %(max)d.") % {"max": MAX_IMAGE_SIDE}}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for bad data
        raise ValidationError({"image": not_a_picture}) from exc
    return out.getvalue()


def _picture_changed(product: Product) -> bool:
    """A new picture to check and thumbnail: an upload not yet stored, another file than the saved row's, or a
    picture without its thumbnail."""
    if not product.image:
        return False
    if not getattr(product.image, "_committed", True) or not product.thumbnail:
        return True
    saved = Product.objects.filter(pk=product.pk).values_list("image", flat=True).first() if product.pk else None
    return saved != product.image.name


def product_save(*, product: Product) -> Product:
    """Validate (model fields, then product_check, then a new picture) and save a product; bumps the configuration
    version. A new picture gets its thumbnail (product_image_thumbnail); no picture, no thumbnail.

    Stock is written when the product is created and never by a later save: a saved product's stock moves only
    through orders and stock_adjust (conditional updates), so a form loaded before an order cannot put the sold
    unit back."""
    product.full_clean(exclude=["thumbnail"])
    product_check(product=product)
    thumbnail = product_image_thumbnail(data=_image_bytes(product.image)) if _picture_changed(product) else None
    with transaction.atomic():
        if thumbnail is not None:
            stem = PurePosixPath(product.image.name or "").stem or "product"
            product.thumbnail.save(f"{stem}-thumb.webp", ContentFile(thumbnail), save=False)
        elif not product.image:
            product.thumbnail = ""
        if product._state.adding:
            product.save()
        else:
            fields = [f.name for f in Product._meta.concrete_fields if f.name not in ("id", "stock", "created_at")]
            product.save(update_fields=fields)
        config_changed()
    return product


# --- Categories and suppliers ---------------------------------------------------------------------------------


def category_check(*, category: Category) -> None:
    """A category's parent may not be itself or any category below it (ValidationError on `parent`)."""
    if category.pk is not None and category.parent_id is not None:
        seen: set[int] = set()
        node: int | None = category.parent_id
        while node is not None and node not in seen:
            if node == category.pk:
                raise ValidationError({"parent": _("A category cannot sit below itself or one of its subcategories.")})
            seen.add(node)
            node = Category.objects.filter(pk=node).values_list("parent_id", flat=True).first()


def category_save(*, category: Category) -> Category:
    """Validate (fields, then category_check) and save a category of the tree; bumps the configuration version."""
    category_check(category=category)  # first: it says more than the CHECK constraint against its own parent
    category.full_clean()
    with transaction.atomic():
        category.save()
        config_changed()
    return category


def supplier_save(*, supplier: Supplier) -> Supplier:
    """Validate and save a supplier."""
    supplier.full_clean()
    supplier.save()
    return supplier


# --- Stock ----------------------------------------------------------------------------------------------------

_STOCK_SQL = (
    f"UPDATE {Product._meta.db_table} SET stock = stock + %s "  # noqa: S608 — the table name is ours
    "WHERE id = %s AND stock::bigint + %s BETWEEN 0 AND 2147483647 RETURNING stock"
)


def stock_adjust(*, product_id: int, delta: int, reason: str, actor_id: int) -> StockMove:
    """Top up (delta > 0) or correct (delta < 0) a product's stock and record who did it and why (StockMove), in
    one transaction. One conditional UPDATE: concurrent top-ups and orders never lose a unit, and a correction
    that would take the stock below zero is refused (StockNegative, with the current stock) and changes
    nothing."""
    problems: dict[str, str] = {}
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_STOCK_DELTA:
        problems["delta"] = _("Enter a change between -%(max)s and %(max)s, not 0.") % {"max": f"{MAX_STOCK_DELTA:,}"}
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = _("Say why the stock changes (a delivery, a count, a correction).")
    elif len(reason) > MAX_REASON:
        problems["reason"] = _("At most %(max)d characters.") % {"max": MAX_REASON}
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_STOCK_SQL, [delta, product_id, delta])
            row = cursor.fetchone()
        if row is None:
            stock = Product.objects.filter(pk=product_id).values_list("stock", flat=True).first()
            if stock is None:
                raise ProductNotFound()
            raise StockNegative(
                _("Stock cannot fall below zero: %(stock)d in stock, change %(delta)+d.")
                % {"stock": stock, "delta": delta},
                details={"stock": stock},
            )
        return StockMove.objects.create(
            product_id=product_id, delta=delta, stock_after=int(row[0]), reason=reason, actor_id=actor_id
        )
