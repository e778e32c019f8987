"""The operators' shipping queue in the Django admin: every source in one list (filter by status and source), the
logistics company's CSV out (BOM, formula-safe, per source) and in (all or nothing, UTF-8 or GBK), shipping by
hand, delivered/returned actions — and analysts who may only look and export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from shipments.models import Shipment
from shipments.services import shipment_transition
from tests.conftest import staff_client

from .conftest import GIFT

pytestmark = pytest.mark.django_db

SHIPMENTS = "/admin/shipments/shipment/"
EXPORT = f"{SHIPMENTS}export/"
IMPORT = f"{SHIPMENTS}import/"


def parse_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def statuses(items: list[Shipment]) -> list[str]:
    return [Shipment.objects.get(pk=s.pk).status for s in items]


def ship(shipment: Shipment, number: str = "SF1") -> None:
    shipment_transition(shipment_id=shipment.pk, to="shipped", carrier="顺丰", tracking_number=number,
                        now=timezone.now())  # fmt: skip


def test_queue_shows_ready_to_ship_by_default(operator, make_shipment):
    _user, client = operator
    ready = [make_shipment(), make_shipment()]
    waiting = make_shipment(ready=False)
    response = client.get(SHIPMENTS)
    assert response.status_code == 200
    assert sorted(s.pk for s in response.context["cl"].result_list) == sorted(s.pk for s in ready)
    assert client.get(SHIPMENTS, {"_facets": "True"}).status_code == 200
    everything = client.get(SHIPMENTS, {"status": "all"}).context["cl"].result_list
    assert {s.pk for s in everything} == {s.pk for s in [*ready, waiting]}
    only_waiting = client.get(SHIPMENTS, {"status": "awaiting_address"}).context["cl"].result_list
    assert [s.pk for s in only_waiting] == [waiting.pk]

    ship(ready[0], "SF123456")
    found = client.get(SHIPMENTS, {"q": "SF123456"}).context["cl"].result_list  # a search looks through all
    assert [s.pk for s in found] == [ready[0].pk]
    page = response.content.decode()
    assert EXPORT in page
    assert IMPORT in page
    assert "Test parcel #" in page  # the source column


def test_queue_and_export_filter_by_source(operator, make_shipment):
    _user, client = operator
    parcel, gift = make_shipment(), make_shipment(kind=GIFT)
    response = client.get(SHIPMENTS, {"source": GIFT})
    assert [s.pk for s in response.context["cl"].result_list] == [gift.pk]
    assert "Test gift" in response.content.decode()  # offered as a filter choice
    assert f"{EXPORT}?source={GIFT}" in response.content.decode()  # the export link keeps the source
    assert [int(r["shipment_id"]) for r in parse_csv(client.get(EXPORT, {"source": GIFT}))] == [gift.pk]
    assert [r["source"] for r in parse_csv(client.get(EXPORT, {"source": GIFT}))] == ["Test gift"]
    assert {int(r["shipment_id"]) for r in parse_csv(client.get(EXPORT))} == {parcel.pk, gift.pk}
    unknown = parse_csv(client.get(EXPORT, {"source": "nobody.thing"}))  # not a source: everything
    assert {int(r["shipment_id"]) for r in unknown} == {parcel.pk, gift.pk}


def test_export_ready_to_ship_csv_guards_against_formulas(operator, make_shipment):
    _user, client = operator
    ready = [make_shipment(), make_shipment()]
    make_shipment(ready=False)
    Shipment.objects.filter(pk=ready[0].pk).update(recipient='=HYPERLINK("http://x")', detail="@SUM(A1)")
    Shipment.objects.filter(pk=ready[1].pk).update(recipient="-2+3", district="+cmd|' /C calc'!A0")

    before = timezone.localdate()
    response = client.get(EXPORT)
    names = {f'attachment; filename="shipments-{day:%Y%m%d}.csv"' for day in (before, timezone.localdate())}
    assert response["Content-Disposition"] in names  # either side of a midnight passing during the request
    assert response.content.startswith(b"\xef\xbb\xbfshipment_id,carrier,tracking_number,")  # BOM for Excel
    rows = parse_csv(response)
    assert [int(r["shipment_id"]) for r in rows] == [s.pk for s in ready]
    first, second = rows
    assert first["recipient"] == '\'=HYPERLINK("http://x")'
    assert first["detail"] == "'@SUM(A1)"
    assert second["recipient"] == "'-2+3"
    assert second["district"] == "'+cmd|' /C calc'!A0"
    assert first["phone"] == "+8613800138000"  # a plain phone number stays usable
    assert first["city"] == "上海市"
    assert first["item"] == "保温杯"
    assert (first["carrier"], first["tracking_number"], first["status"]) == ("", "", "ready")


def test_export_selected_action(analyst, make_shipment):
    _user, client = analyst
    ready = [make_shipment(), make_shipment()]
    waiting = make_shipment(ready=False)
    response = client.post(
        f"{SHIPMENTS}?status=all",
        {"action": "export_selected", ACTION_CHECKBOX_NAME: [str(ready[1].pk), str(waiting.pk)]},
    )
    rows = parse_csv(response)
    assert sorted(int(r["shipment_id"]) for r in rows) == sorted([ready[1].pk, waiting.pk])
    assert 'attachment; filename="shipments-' in response["Content-Disposition"]


def _filled_sheet(client: Client, tracking: dict[int, tuple[str, str]]) -> str:
    sheet = client.get(EXPORT).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(sheet)))
    for row in rows[1:]:
        carrier, number = tracking.get(int(row[0]), ("", ""))
        row[1], row[2] = carrier, number
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_import_shipped_csv_from_a_gbk_excel_file(operator, make_shipment):
    _user, client = operator
    a, b = make_shipment(), make_shipment(kind=GIFT)
    text = _filled_sheet(client, {a.pk: ("顺丰速运", "SF1001"), b.pk: ("中通快递", "ZT2002")})
    assert client.get(IMPORT).status_code == 200
    upload = SimpleUploadedFile("shipments.csv", text.encode("gbk"), content_type="text/csv")

    response = client.post(IMPORT, {"file": upload}, follow=True)
    assert "2 shipments marked shipped." in messages_of(response)
    for s, (carrier, number) in ((a, ("顺丰速运", "SF1001")), (b, ("中通快递", "ZT2002"))):
        s.refresh_from_db()
        assert (s.status, s.carrier, s.tracking_number) == ("shipped", carrier, number)
        assert s.shipped_at is not None


def test_import_with_a_bad_line_lists_every_error_and_changes_nothing(operator, make_shipment):
    _user, client = operator
    a, b = make_shipment(), make_shipment()
    waiting = make_shipment(ready=False)
    text = (
        "\ufeffshipment_id,carrier,tracking_number\n"
        f"{a.pk},顺丰,SF1\n"
        f"{b.pk},顺丰,\n"  # no tracking number
        f"{waiting.pk},顺丰,SF3\n"  # no address yet
    )
    upload = SimpleUploadedFile("s.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post(IMPORT, {"file": upload})
    assert response.status_code == 200
    problems = response.context["problems"]
    assert len(problems) == 2
    assert problems[0].startswith(f"Line 3 (shipment {b.pk}): Give the tracking number")
    assert problems[1].startswith(f"Line 4 (shipment {waiting.pk}): The shipment is not in a state")
    assert 'data-testid="import-errors"' in response.content.decode()
    assert statuses([a, b, waiting]) == ["ready", "ready", "awaiting_address"]
    assert Shipment.objects.get(pk=a.pk).tracking_number == ""


def test_import_refuses_oversized_and_unreadable_files(operator, make_shipment):
    _user, client = operator
    a = make_shipment()
    good_line = f"{a.pk},顺丰,SF1\n"
    big = ("shipment_id,carrier,tracking_number\n" + good_line + "#" * (2 * 1024 * 1024)).encode()
    response = client.post(IMPORT, {"file": SimpleUploadedFile("big.csv", big)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file is larger than 2 MB. Split it into smaller files."]

    garbage = b"shipment_id,carrier,tracking_number\n\x80\xff\xfe\n"
    response = client.post(IMPORT, {"file": SimpleUploadedFile("bad.csv", garbage)})
    assert "neither UTF-8 nor GBK" in response.context["form"].errors["file"][0]

    response = client.post(IMPORT, {"file": SimpleUploadedFile("cols.csv", b"id,x\n1,2\n")})
    assert response.context["problems"] == ["Missing columns: shipment_id, carrier, tracking_number"]
    assert statuses([a]) == ["ready"]


def test_deliver_and_return_actions_report_wrong_states(operator, make_shipment):
    _user, client = operator
    shipped, still_ready = make_shipment(), make_shipment()
    ship(shipped)
    ids = [str(shipped.pk), str(still_ready.pk)]

    response = client.post(f"{SHIPMENTS}?status=all", {"action": "mark_delivered", ACTION_CHECKBOX_NAME: ids},
                           follow=True)  # fmt: skip
    shown = messages_of(response)
    assert "1 shipment(s) marked delivered." in shown
    assert f"Not changed, in the wrong state: #{still_ready.pk} (ready to ship)" in shown
    assert statuses([shipped, still_ready]) == ["delivered", "ready"]

    response = client.post(f"{SHIPMENTS}?status=all", {"action": "mark_returned", ACTION_CHECKBOX_NAME: ids},
                           follow=True)  # fmt: skip
    assert "1 shipment(s) marked returned." in messages_of(response)
    assert statuses([shipped, still_ready]) == ["returned", "ready"]
    assert Shipment.objects.get(pk=shipped.pk).returned_at is not None


def test_ship_one_shipment_by_hand_as_the_table_allows(operator, make_shipment):
    _user, client = operator
    s = make_shipment()
    waiting = make_shipment(ready=False)
    ship_url = f"{SHIPMENTS}{s.pk}/ship/"
    view = client.get(f"{SHIPMENTS}{s.pk}/change/").content.decode()
    assert ship_url in view
    assert ">Ship</a>" in view
    assert "Can move on to: shipped" in view
    waiting_view = client.get(f"{SHIPMENTS}{waiting.pk}/change/").content.decode()
    assert f"{SHIPMENTS}{waiting.pk}/ship/" not in waiting_view  # no address yet: the table has no such move
    assert "Can move on to: ready to ship, expired (unclaimed)" in waiting_view

    response = client.post(ship_url, {"carrier": "顺丰", "tracking_number": "   "})
    assert response.status_code == 200
    assert "tracking_number" in response.context["form"].errors
    assert statuses([s]) == ["ready"]

    response = client.post(ship_url, {"carrier": "顺丰", "tracking_number": "SF77"}, follow=True)
    assert f"Shipment #{s.pk} marked shipped." in messages_of(response)
    s.refresh_from_db()
    assert (s.status, s.carrier, s.tracking_number) == ("shipped", "顺丰", "SF77")
    assert ">Correct tracking</a>" in client.get(f"{SHIPMENTS}{s.pk}/change/").content.decode()

    shipment_transition(shipment_id=s.pk, to="delivered", now=timezone.now())
    assert ship_url not in client.get(f"{SHIPMENTS}{s.pk}/change/").content.decode()
    response = client.post(ship_url, {"carrier": "顺丰", "tracking_number": "SF78"})
    assert any("not in a state" in e for e in response.context["form"].non_field_errors())
    assert Shipment.objects.get(pk=s.pk).tracking_number == "SF77"


def test_analysts_can_view_and_export_but_not_import_or_change_status(analyst, make_shipment):
    _user, client = analyst
    shipped, ready = make_shipment(), make_shipment()
    ship(shipped)

    page = client.get(SHIPMENTS)
    assert page.status_code == 200
    html = page.content.decode()
    assert EXPORT in html
    assert IMPORT not in html
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "export_selected" in actions
    assert not {"mark_delivered", "mark_returned", "delete_selected"} & set(actions)
    assert [int(r["shipment_id"]) for r in parse_csv(client.get(EXPORT))] == [ready.pk]

    assert client.get(IMPORT).status_code == 403
    sheet = f"shipment_id,carrier,tracking_number\n{ready.pk},顺丰,SF2\n".encode()
    assert client.post(IMPORT, {"file": SimpleUploadedFile("s.csv", sheet)}).status_code == 403
    assert client.get(f"{SHIPMENTS}{ready.pk}/ship/").status_code == 403
    assert client.post(f"{SHIPMENTS}{ready.pk}/ship/", {"carrier": "x", "tracking_number": "y"}).status_code == 403
    client.post(f"{SHIPMENTS}?status=all", {"action": "mark_delivered", ACTION_CHECKBOX_NAME: [str(shipped.pk)]})
    assert statuses([shipped, ready]) == ["shipped", "ready"]
    assert f"{SHIPMENTS}{ready.pk}/ship/" not in client.get(f"{SHIPMENTS}{ready.pk}/change/").content.decode()
    assert client.post(f"{SHIPMENTS}{ready.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Shipment.objects.filter(pk=ready.pk).exists()


def test_members_without_staff_rights_cannot_export(member):
    client = staff_client(member)
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
