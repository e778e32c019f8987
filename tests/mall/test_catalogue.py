"""The catalogue's writes (mall.catalogue): product pictures checked by Pillow and thumbnailed, a saved product's
stock never written back by a later save, stock top-ups and corrections (one conditional UPDATE and a StockMove,
race-safe), the category tree without cycles, and the audit log."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Sum
from django.utils import translation
from PIL import Image

from accounts.models import User
from campaigns.models import Campaign
from mall import catalogue
from mall.builders import category_build, product_build
from mall.errors import ProductNotFound, StockNegative
from mall.models import Category, Product, StockMove
from tests.conftest import run_concurrently

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_and_english(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with translation.override("en"):
        yield


def picture(size: tuple[int, int] = (1200, 800), kind: str = "PNG", mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else None).save(out, format=kind, **save)
    return out.getvalue()


def upload(data: bytes, name: str = "book.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


# --- Pictures ---------------------------------------------------------------------------------------------------


def test_a_new_picture_gets_a_400_pixel_webp_thumbnail(campaign: Campaign) -> None:
    item = product_build(campaign=campaign, image=upload(picture((1200, 800))))
    item.refresh_from_db()
    assert str(item.image.name).startswith("mall/products/")
    assert str(item.thumbnail.name).startswith("mall/thumbs/")
    assert str(item.thumbnail.name).endswith(".webp")
    with Image.open(item.thumbnail.path) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (400, 267)  # proportions kept, within 400 x 400

    item.name = "another name"  # a save without a new picture keeps the thumbnail
    catalogue.product_save(product=item)
    assert Product.objects.get(pk=item.pk).thumbnail.name == item.thumbnail.name

    item.image = ""
    catalogue.product_save(product=item)
    item.refresh_from_db()
    assert not item.image
    assert not item.thumbnail


def test_a_stored_picture_without_a_thumbnail_gets_one(campaign: Campaign) -> None:
    """What seed_demo does: the picture is stored first (FieldFile.save), then the product saved."""
    item = Product(campaign=campaign, category=category_build(), name="书", name_en="Book", points_price=10)
    item.delivery, item.instructions, item.instructions_en = "instructions", "到店出示", "Show it"
    item.image.save("card.jpg", ContentFile(picture((300, 900), kind="JPEG")), save=False)
    catalogue.product_save(product=item)
    with Image.open(Product.objects.get(pk=item.pk).thumbnail.path) as thumb:
        assert thumb.size == (133, 400)


def test_jpeg_orientation_is_applied_and_transparency_kept(campaign: Campaign) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: shown upright it is taller than wide
    item = product_build(campaign=campaign, image=upload(picture((800, 400), kind="JPEG", exif=exif), "photo.jpg"))
    with Image.open(item.thumbnail.path) as thumb:
        assert thumb.size == (200, 400)
    clear = product_build(campaign=campaign, name="透明", image=upload(picture((50, 50), mode="RGBA")))
    with Image.open(clear.thumbnail.path) as thumb:
        assert thumb.mode == "RGBA"


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a picture at all", "not one"),
        (picture()[:200], "not one"),  # a truncated PNG
        (_gif(), "not one"),  # a real picture, but not JPEG, PNG or WebP
        (picture((4001, 20)), "4001 × 20 pixels"),
        (b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "larger than 5 MB"),
    ],
    ids=["text", "truncated", "gif", "too-wide", "too-big"],
)
def test_a_bad_picture_is_refused_and_nothing_changes(campaign: Campaign, data: bytes, message: str) -> None:
    item = product_build(campaign=campaign)
    before = Product.objects.values().get(pk=item.pk)
    item.image = upload(data)
    item.name = "changed"
    with pytest.raises(ValidationError) as caught:
        catalogue.product_save(product=item)
    assert message in caught.value.message_dict["image"][0]
    assert Product.objects.values().get(pk=item.pk) == before
    with pytest.raises(ValidationError):
        product_build(campaign=campaign, name="new", image=upload(data))
    assert Product.objects.count() == 1


def test_product_check_problems_come_as_field_errors(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as caught:
        product_build(campaign=campaign, delivery="instructions", instructions="", instructions_en="")
    assert "instructions" in caught.value.message_dict
    assert not Product.objects.exists()


# --- Stock ------------------------------------------------------------------------------------------------------


def test_a_later_save_never_writes_stock_back(campaign: Campaign) -> None:
    item = product_build(campaign=campaign, stock=10)
    stale = Product.objects.get(pk=item.pk)  # a form loaded now...
    Product.objects.filter(pk=item.pk).update(stock=F("stock") - 3)  # ...then three orders take units
    stale.name_en = "Renamed"
    catalogue.product_save(product=stale)
    fresh = Product.objects.get(pk=item.pk)
    assert (fresh.stock, fresh.name_en) == (7, "Renamed")


def test_stock_top_up_and_correction_are_recorded(campaign: Campaign, make_user: Callable[..., User]) -> None:
    actor = make_user(is_staff=True)
    item = product_build(campaign=campaign, stock=4)
    move = catalogue.stock_adjust(product_id=item.pk, delta=6, reason=" delivery 2026-03 ", actor_id=actor.pk)
    assert (move.delta, move.stock_after, move.reason, move.actor_id) == (6, 10, "delivery 2026-03", actor.pk)
    move = catalogue.stock_adjust(product_id=item.pk, delta=-10, reason="count", actor_id=actor.pk)
    assert move.stock_after == 0
    assert Product.objects.get(pk=item.pk).stock == 0
    assert list(StockMove.objects.order_by("pk").values_list("delta", "stock_after")) == [(6, 10), (-10, 0)]


def test_a_correction_below_zero_is_refused_and_changes_nothing(
    campaign: Campaign, make_user: Callable[..., User]
) -> None:
    actor = make_user(is_staff=True)
    item = product_build(campaign=campaign, stock=3)
    with pytest.raises(StockNegative) as caught:
        catalogue.stock_adjust(product_id=item.pk, delta=-4, reason="count", actor_id=actor.pk)
    assert caught.value.code == "stock_negative"
    assert caught.value.details == {"stock": 3}
    assert "3 in stock, change -4" in str(caught.value.message)
    assert Product.objects.get(pk=item.pk).stock == 3
    assert not StockMove.objects.exists()


@pytest.mark.parametrize(
    ("delta", "reason", "field"),
    [(0, "x", "delta"), (1_000_001, "x", "delta"), (True, "x", "delta"), (5, "  ", "reason"), (5, "x" * 201, "reason")],
)
def test_bad_stock_changes_are_refused(
    campaign: Campaign, make_user: Callable[..., User], delta: Any, reason: str, field: str
) -> None:
    item = product_build(campaign=campaign, stock=3)
    with pytest.raises(ValidationError) as caught:
        catalogue.stock_adjust(product_id=item.pk, delta=delta, reason=reason, actor_id=make_user().pk)
    assert field in caught.value.message_dict
    assert Product.objects.get(pk=item.pk).stock == 3
    assert not StockMove.objects.exists()


def test_a_missing_product_is_not_found(make_user: Callable[..., User]) -> None:
    with pytest.raises(ProductNotFound):
        catalogue.stock_adjust(product_id=987654321, delta=1, reason="x", actor_id=make_user().pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_top_ups_at_once_lose_nothing(
    transactional_db: Any, campaign: Campaign, make_user: Callable[..., User]
) -> None:
    actor = make_user(is_staff=True)
    item = product_build(campaign=campaign, stock=5)
    results = run_concurrently(
        20, lambda i: catalogue.stock_adjust(product_id=item.pk, delta=3, reason=f"top-up {i}", actor_id=actor.pk)
    )
    assert all(isinstance(r, StockMove) for r in results), results
    assert Product.objects.get(pk=item.pk).stock == 5 + 60
    assert StockMove.objects.aggregate(total=Sum("delta"))["total"] == 60
    # Each top-up saw the stock its predecessor left: the stock_after values are 8, 11, ..., 65.
    assert sorted(StockMove.objects.values_list("stock_after", flat=True)) == list(range(8, 66, 3))

    # Twenty corrections of -4 against 65 units: exactly 16 go through, stock 1, and nothing goes below zero.
    results = run_concurrently(
        20, lambda i: catalogue.stock_adjust(product_id=item.pk, delta=-4, reason=f"count {i}", actor_id=actor.pk)
    )
    assert Counter(type(r).__name__ for r in results) == Counter({"StockMove": 16, "StockNegative": 4})
    assert Product.objects.get(pk=item.pk).stock == 1
    assert StockMove.objects.aggregate(total=Sum("delta"))["total"] == 60 - 64


# --- Categories and the audit log ----------------------------------------------------------------------------------


def test_the_category_tree_refuses_cycles() -> None:
    books = catalogue.category_save(category=Category(name="图书", name_en="Books", slug="books"))
    novels = catalogue.category_save(category=Category(name="小说", name_en="Novels", slug="novels", parent=books))
    crime = catalogue.category_save(category=Category(name="推理", name_en="Crime", slug="crime", parent=novels))
    for parent in (crime, books):
        books.parent = parent
        with pytest.raises(ValidationError) as caught:
            catalogue.category_save(category=books)
        assert "parent" in caught.value.message_dict
    assert Category.objects.get(pk=books.pk).parent_id is None
    crime.parent = books  # moving a leaf elsewhere is fine
    catalogue.category_save(category=crime)
    assert Category.objects.get(pk=crime.pk).parent_id == books.pk


def test_product_edits_are_audited_without_stock(campaign: Campaign) -> None:
    item = product_build(campaign=campaign, stock=10, points_price=100)
    stale = Product.objects.get(pk=item.pk)
    Product.objects.filter(pk=item.pk).update(stock=F("stock") - 1)
    stale.points_price = 120
    catalogue.product_save(product=stale)
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Product), object_pk=str(item.pk))
    assert entries.count() == 2  # created, then changed
    change = entries.order_by("pk").last()
    assert change is not None
    changes = change.changes_dict
    assert changes["points_price"] == ["100", "120"]
    assert "stock" not in changes
