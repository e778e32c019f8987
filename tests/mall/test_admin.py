"""The operators' side of the mall in the Django admin: suppliers, the category tree, products (through
mall.catalogue: pictures checked and thumbnailed, stock read-only after creation and moved by the audited top-up),
code pools (CSV import with a row report, generation, free/total and the low flag), orders (read-only, searchable,
"Cancel and refund" with a reason), stock changes and code reveals (read-only)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import User
from campaigns.models import Campaign
from config.errors import DomainError
from mall import catalogue
from mall.builders import category_build, pool_build, supplier_build
from mall.models import Category, Code, CodePool, CodeReveal, Order, OrderStatus, Product, StockMove, Supplier
from mall.orders import code_reveal, order_place
from points.selectors import balance_for

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/mall/product/"
POOLS = "/admin/mall/codepool/"
ORDERS = "/admin/mall/order/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def png(size: tuple[int, int] = (900, 600)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return SimpleUploadedFile("cover.png", out.getvalue(), content_type="image/png")


def product_form(campaign: Campaign, category: Category, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "campaign": str(campaign.pk),
        "category": str(category.pk),
        "supplier": "",
        "name": "三体",
        "name_en": "The Three-Body Problem",
        "description": "",
        "description_en": "",
        "points_price": "500",
        "stock": "12",
        "unit_cost_cny": "30.00",
        "limit_per_member": "",
        "limit_per_day": "",
        "sale_phases": "official_followup",
        "sale_starts_at_0": "",
        "sale_starts_at_1": "",
        "sale_ends_at_0": "",
        "sale_ends_at_1": "",
        "delivery": "instructions",
        "code_pool": "",
        "instructions": "到店出示",
        "instructions_en": "Show it at the counter",
        "physical_methods": "",
        "pickup_location": "",
        "pickup_location_en": "",
        "virtual_kind": "",
        "virtual_points": "",
        "multiplier_percent": "",
        "multiplier_hours": "",
        "is_active": "on",
        "position": "0",
    }
    form.update(overrides)
    return form


def form_errors(response: Any) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


# --- Suppliers and categories ---------------------------------------------------------------------------------


def test_operators_add_suppliers_and_the_change_is_audited(operator: tuple[User, Client]) -> None:
    user, client = operator
    response = client.post(
        "/admin/mall/supplier/add/",
        {
            "name": "京东",
            "name_en": "JD",
            "contact_name": "王经理",
            "contact_phone": "010-1234",
            "contact_email": "",
            "settlement_terms": "月结 30 天",
        },
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get()
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Supplier), object_pk=str(supplier.pk))
    assert entry.actor == user


def test_a_refusal_at_save_time_keeps_nothing_and_comes_back_to_the_form(
    operator: tuple[User, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.admin.ServiceAdmin / save_or_refuse: a service that refuses after the form validated (a race) rolls
    back what the save wrote and shows the same form again with the refusal."""
    _user, client = operator

    def save_then_refuse(*, supplier: Supplier) -> Supplier:
        supplier.save()
        raise DomainError("Someone else changed it")

    monkeypatch.setattr(catalogue, "supplier_save", save_then_refuse)
    response = client.post("/admin/mall/supplier/add/", {"name": "京东", "name_en": "JD"}, follow=True)
    assert response.redirect_chain == [("/admin/mall/supplier/add/", 302)]
    assert messages_of(response) == ["Nothing was saved: Someone else changed it"]
    assert not Supplier.objects.exists()


def test_the_category_tree_is_listed_in_order_and_cycles_are_refused(operator: tuple[User, Client]) -> None:
    _user, client = operator
    films = category_build(slug="films", name="电影", name_en="Films", position=2)
    books = category_build(slug="books", name="图书", name_en="Books", position=1)
    novels = category_build(slug="novels", name="小说", name_en="Novels", parent=books, position=1)
    listing = client.get("/admin/mall/category/")
    assert [c.pk for c in listing.context["cl"].result_list] == [books.pk, novels.pk, films.pk]
    assert "图书 › 小说" in listing.content.decode()

    form = {"parent": str(novels.pk), "name": "图书", "name_en": "Books", "slug": "books", "icon": "",
            "position": "1", "is_active": "on"}  # fmt: skip
    response = client.post(f"/admin/mall/category/{books.pk}/change/", form)
    assert response.status_code == 200
    assert "below itself" in form_errors(response)["parent"][0]
    assert Category.objects.get(pk=books.pk).parent_id is None


# --- Products and stock ------------------------------------------------------------------------------------------


def test_a_product_is_created_with_its_thumbnail_and_its_stock_is_read_only_afterwards(
    operator: tuple[User, Client], campaign: Campaign
) -> None:
    _user, client = operator
    category = category_build()
    response = client.post(f"{PRODUCTS}add/", {**product_form(campaign, category), "image": png()})
    assert response.status_code == 302, form_errors(response)
    item = Product.objects.get()
    assert item.stock == 12
    assert str(item.thumbnail.name).endswith(".webp")

    page = client.get(f"{PRODUCTS}{item.pk}/change/")
    assert 'name="stock"' not in page.content.decode()
    assert f"{PRODUCTS}{item.pk}/stock/" in page.content.decode()
    Product.objects.filter(pk=item.pk).update(stock=9)  # three orders meanwhile
    response = client.post(f"{PRODUCTS}{item.pk}/change/", product_form(campaign, category, stock="999", name="三体 I"))
    assert response.status_code == 302, form_errors(response)
    item.refresh_from_db()
    assert (item.name, item.stock) == ("三体 I", 9)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"image": SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")}, "image", "image"),
        ({"image": png((4100, 10))}, "image", "4100 × 10 pixels"),
        ({"delivery": "code"}, "code_pool", "code pool"),
        ({"instructions_en": ""}, "instructions", "both languages"),
    ],
    ids=["not-a-picture", "too-wide", "code-without-pool", "one-language"],
)
def test_bad_product_input_is_shown_and_nothing_is_saved(
    operator: tuple[User, Client], campaign: Campaign, overrides: dict[str, Any], field: str, message: str
) -> None:
    _user, client = operator
    response = client.post(f"{PRODUCTS}add/", product_form(campaign, category_build(), **overrides))
    assert response.status_code == 200
    errors = form_errors(response)
    assert message in " ".join(errors[field]), errors
    assert not Product.objects.exists()


def test_stock_is_topped_up_and_corrected_on_its_own_page(
    operator: tuple[User, Client], analyst: tuple[User, Client], product: Callable[..., Product]
) -> None:
    user, client = operator
    item = product(stock=4)
    url = f"{PRODUCTS}{item.pk}/stock/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"delta": "6", "reason": "到货"}, follow=True)
    assert "Stock +6, now 10." in messages_of(response)
    move = StockMove.objects.get()
    assert (move.delta, move.stock_after, move.actor, move.reason) == (6, 10, user, "到货")

    response = client.post(url, {"delta": "-11", "reason": "盘点"})
    assert response.status_code == 200
    assert "10 in stock, change -11" in response.context["form"].errors["delta"][0]
    response = client.post(url, {"delta": "0", "reason": "盘点"})
    assert "delta" in response.context["form"].errors
    assert Product.objects.get(pk=item.pk).stock == 10
    assert StockMove.objects.count() == 1

    _analyst, watcher = analyst
    assert watcher.get(url).status_code == 403
    assert watcher.post(url, {"delta": "5", "reason": "x"}).status_code == 403
    assert Product.objects.get(pk=item.pk).stock == 10
    moves = client.get("/admin/mall/stockmove/", {"product__id__exact": item.pk})
    assert [m.pk for m in moves.context["cl"].result_list] == [move.pk]


def test_the_stock_action_asks_then_changes_each_selected_product(
    operator: tuple[User, Client], product: Callable[..., Product]
) -> None:
    _user, client = operator
    first, second = product(name="甲", stock=1), product(name="乙", stock=5)
    selection = {"action": "stock_adjust_selected", "_selected_action": [str(first.pk), str(second.pk)]}
    asked = client.post(PRODUCTS, selection)
    assert asked.status_code == 200
    assert "admin/mall/product/stock.html" in [t.name for t in asked.templates]
    response = client.post(PRODUCTS, {**selection, "delta": "-3", "reason": "盘点"}, follow=True)
    shown = messages_of(response)
    assert any(m.startswith("甲:") and "1 in stock, change -3" in m for m in shown), shown
    assert "乙: stock -3, now 2." in shown
    assert dict(Product.objects.values_list("name", "stock")) == {"甲": 1, "乙": 2}


def test_products_cannot_be_deleted(operator: tuple[User, Client], product: Callable[..., Product]) -> None:
    _user, client = operator
    item = product()
    assert client.get(f"{PRODUCTS}{item.pk}/delete/").status_code == 403


# --- Code pools --------------------------------------------------------------------------------------------------


def test_the_pool_list_shows_free_of_total_and_flags_low_pools(operator: tuple[User, Client], member: User) -> None:
    _user, client = operator
    low = pool_build(codes=3, name="low pool", prefix="L")
    fine = pool_build(codes=12, name="fine pool", prefix="F")
    Code.objects.filter(pool=low, code="L-00001").update(assigned_to=member, assigned_at=timezone.now(),
                                                        assignment_key="k")  # fmt: skip
    listing = client.get(POOLS)
    rows = {pool.name: pool for pool in listing.context["cl"].result_list}
    admin_ = listing.context["cl"].model_admin
    assert admin_.free_of_total(rows["low pool"]) == "2 / 3"
    assert (admin_.is_low(rows["low pool"]), admin_.is_low(rows["fine pool"])) == (True, False)
    lows = client.get(POOLS, {"low": "yes"})
    assert [p.pk for p in lows.context["cl"].result_list] == [low.pk]
    assert fine.pk not in [p.pk for p in lows.context["cl"].result_list]


def test_a_csv_file_is_imported_with_a_row_report_and_a_second_import_adds_nothing(
    operator: tuple[User, Client],
) -> None:
    _user, client = operator
    pool = pool_build(name="京东卡", supplier=supplier_build(name="京东"))
    assert f"{POOLS}{pool.pk}/import/" in client.get(f"{POOLS}{pool.pk}/change/").content.decode()
    raw = "名称,code\n京东卡,JD-0001\n京东卡,JD-0002\n京东卡,JD-0001\n京东卡,bad code\n".encode("gbk")

    def send() -> Any:
        return client.post(f"{POOLS}{pool.pk}/import/", {"file": SimpleUploadedFile("codes.csv", raw)})

    response = send()
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.row, r.code, r.outcome) for r in report.rows] == [
        (2, "JD-0001", "added"),
        (3, "JD-0002", "added"),
        (4, "JD-0001", "duplicate_in_file"),
        (5, "bad code", "invalid"),
    ]
    page = response.content.decode()
    assert "duplicate in file" in page
    assert "bad code" in page
    assert "2 codes added." in messages_of(response)

    again = send()
    assert [r.outcome for r in again.context["report"].rows] == [
        "already_in_pool", "already_in_pool", "duplicate_in_file", "invalid"
    ]  # fmt: skip
    assert sorted(Code.objects.filter(pool=pool).values_list("code", flat=True)) == ["JD-0001", "JD-0002"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"JD-0001\n\xff\xfe\xfa\n", "neither UTF-8 nor GBK"),
        (b"JD-0001\n" * 300_000, "larger than 2 MB"),
        (b"code\n", "holds no codes"),
    ],
    ids=["encoding", "too-big", "empty"],
)
def test_an_unreadable_file_is_refused_with_a_message(operator: tuple[User, Client], raw: bytes, message: str) -> None:
    _user, client = operator
    pool = pool_build()
    response = client.post(f"{POOLS}{pool.pk}/import/", {"file": SimpleUploadedFile("codes.csv", raw)})
    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert response.context["report"] is None
    assert not Code.objects.exists()


def test_codes_are_generated_from_the_admin(operator: tuple[User, Client], analyst: tuple[User, Client]) -> None:
    _user, client = operator
    pool = pool_build()
    url = f"{POOLS}{pool.pk}/generate/"
    response = client.post(url, {"count": "0", "code_prefix": ""})
    assert "count" in response.context["form"].errors
    response = client.post(url, {"count": "10", "code_prefix": "bad prefix"})
    assert "code_prefix" in response.context["form"].errors
    assert not Code.objects.exists()
    response = client.post(url, {"count": "50", "code_prefix": "MV-"}, follow=True)
    assert "50 codes generated." in messages_of(response)
    made = list(Code.objects.filter(pool=pool).values_list("code", flat=True))
    assert len(set(made)) == 50
    assert all(code.startswith("MV-") and len(code) == 3 + 17 for code in made)

    _analyst, watcher = analyst
    assert watcher.post(url, {"count": "5", "code_prefix": ""}).status_code == 403
    assert watcher.get(f"{POOLS}{pool.pk}/import/").status_code == 403
    assert Code.objects.count() == 50


# --- Orders, code reveals ---------------------------------------------------------------------------------------


@pytest.fixture
def placed(member: User, fund: Callable[[int, int], None], product: Callable[..., Product]) -> dict[str, Order]:
    """A code order (its code revealed) and a store-pickup order of `member`."""
    fund(member.pk, 5000)
    coupon = product(delivery="code", name="优惠券", points_price=100)
    goods = product(
        delivery="physical", name="保温杯", points_price=300, physical_methods="pickup",
        pickup_location="一号店", pickup_location_en="Store 1",
    )  # fmt: skip
    code_order = order_place(product_id=coupon.pk, user_id=member.pk, request_key="a").order
    code_reveal(order_id=code_order.pk, user_id=member.pk, ip="10.0.0.1")
    pickup_order = order_place(product_id=goods.pk, user_id=member.pk, request_key="b", method="pickup").order
    return {"code": code_order, "pickup": pickup_order}


def test_orders_are_read_only_searchable_and_codes_are_masked(
    operator: tuple[User, Client], member: User, placed: dict[str, Order]
) -> None:
    _user, client = operator
    code_order, pickup_order = placed["code"], placed["pickup"]
    assert client.get(f"{ORDERS}add/").status_code == 403

    def found(**query: Any) -> list[int]:
        return sorted(o.pk for o in client.get(ORDERS, query).context["cl"].result_list)

    both = sorted([code_order.pk, pickup_order.pk])
    User.objects.filter(pk=member.pk).update(email="xiaoming@example.com")  # no digits: an id search stays exact
    assert found(q=member.phone) == both
    assert found(q="xiaoming@") == both
    assert found(q=str(pickup_order.pk)) == [pickup_order.pk]
    assert pickup_order.pickup_code
    assert found(q=pickup_order.pickup_code.lower()) == [pickup_order.pk]
    assert found(delivery__exact="code") == [code_order.pk]
    assert found(method__exact="pickup") == [pickup_order.pk]
    assert found(status__exact="placed") == [pickup_order.pk]

    page = client.get(f"{ORDERS}{code_order.pk}/change/").content.decode()
    assert code_order.code is not None
    assert code_order.code.code not in page  # masked
    page = client.get(f"{ORDERS}{pickup_order.pk}/change/").content.decode()
    assert pickup_order.pickup_code not in page

    reveals = client.get("/admin/mall/codereveal/", {"q": str(code_order.pk)})
    assert [r.order_id for r in reveals.context["cl"].result_list] == [code_order.pk]
    assert CodeReveal.objects.count() == 1


def test_cancel_and_refund_asks_for_a_reason_and_refunds_once(
    operator: tuple[User, Client], member: User, placed: dict[str, Order]
) -> None:
    user, client = operator
    pickup_order = placed["pickup"]
    spendable = balance_for(user_id=member.pk).spendable
    selection = {"action": "cancel_and_refund", "_selected_action": [str(pickup_order.pk)]}
    asked = client.post(ORDERS, selection)
    assert asked.status_code == 200
    assert "admin/mall/order/cancel.html" in [t.name for t in asked.templates]
    assert Order.objects.get(pk=pickup_order.pk).status == OrderStatus.PLACED

    response = client.post(ORDERS, {**selection, "reason": "缺货"}, follow=True)
    assert "1 order cancelled and refunded." in messages_of(response)
    order = Order.objects.get(pk=pickup_order.pk)
    assert (order.status, order.cancelled_by, order.cancel_reason) == (OrderStatus.REFUNDED, user, "缺货")
    assert balance_for(user_id=member.pk).spendable == spendable + 300

    response = client.post(ORDERS, {**selection, "reason": "again"}, follow=True)
    assert f"#{pickup_order.pk} was already refunded." in messages_of(response)
    assert balance_for(user_id=member.pk).spendable == spendable + 300


def test_an_order_that_cannot_be_cancelled_says_why(
    operator: tuple[User, Client], placed: dict[str, Order], product: Callable[..., Product], member: User
) -> None:
    _user, client = operator
    card = product(delivery="virtual", name="积分卡", points_price=100)
    virtual = order_place(product_id=card.pk, user_id=member.pk, request_key="v").order
    selection = {"action": "cancel_and_refund", "_selected_action": [str(virtual.pk)], "reason": "试试"}
    response = client.post(ORDERS, selection, follow=True)
    assert any(m.startswith(f"#{virtual.pk}: ") for m in messages_of(response))
    assert Order.objects.get(pk=virtual.pk).status != OrderStatus.REFUNDED


def test_pool_changes_are_audited(operator: tuple[User, Client]) -> None:
    user, client = operator
    pool = pool_build(name="旧名")
    response = client.post(f"{POOLS}{pool.pk}/change/", {"name": "新名", "supplier": "", "low_threshold": "5",
                                                         "codes_to_add": ""})  # fmt: skip
    assert response.status_code == 302
    assert CodePool.objects.get(pk=pool.pk).low_threshold == 5
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(CodePool)).latest("pk")
    assert entry.actor == user
    assert entry.changes_dict["name"] == ["旧名", "新名"]
