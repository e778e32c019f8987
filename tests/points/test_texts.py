"""What members read is stored in both languages (reason / reason_en) and shown in the reader's language through
one helper, config.i18n.localized."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from config.i18n import is_english, localized
from points import services
from points.models import Transfer
from points.services import Member, System
from tests.points.conftest import earn

HISTORY = "/api/v1/points/history"


def test_localized_picks_english_for_english_readers_and_falls_back_to_chinese() -> None:
    both = SimpleNamespace(name="积分抽奖大转盘", name_en="Points wheel")
    chinese_only = SimpleNamespace(name="积分抽奖大转盘", name_en="  ")
    assert localized(both, "name", language="en") == "Points wheel"
    assert localized(both, "name", language="en-gb") == "Points wheel"
    assert localized(both, "name", language="zh-hans") == "积分抽奖大转盘"
    assert localized(chinese_only, "name", language="en") == "积分抽奖大转盘"
    with translation.override("en"):
        assert localized(both, "name") == "Points wheel"
    with translation.override("zh-hans"):
        assert localized(both, "name") == "积分抽奖大转盘"
    assert is_english("EN-us")
    assert not is_english("zh-hans")
    assert not is_english("eno")


@pytest.mark.django_db
def test_reasons_are_stored_and_shown_in_both_languages(member, now) -> None:
    earn(member, 100, key="both", now=now, reason="积分抽奖大转盘", reason_en="Points wheel")
    earn(member, 5, key="zh", now=now, reason="新人礼")
    both = Transfer.objects.get(idempotency_key="both")
    assert (both.reason, both.reason_en) == ("积分抽奖大转盘", "Points wheel")

    client = Client()
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/points/").content.decode()
    assert "Points wheel" in english
    assert "积分抽奖大转盘" not in english
    assert "新人礼" in english  # no English text stored: the Chinese one, rather than nothing
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = client.get("/points/").content.decode()
    assert "积分抽奖大转盘" in chinese
    assert "Points wheel" not in chinese


@pytest.mark.django_db
def test_the_api_gives_reason_and_kind_label_in_the_requests_language(member, now) -> None:
    earn(member, 100, key="both", now=now, reason="积分抽奖大转盘", reason_en="Points wheel")
    api = APIClient()
    api.force_authenticate(member)
    english = api.get(HISTORY, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    chinese = api.get(HISTORY, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]
    assert (english["kind"], english["kind_label"], english["reason"]) == ("earn", "earned", "Points wheel")
    assert chinese["kind"] == "earn"
    assert chinese["reason"] == "积分抽奖大转盘"
    assert re.search(r"[\u4e00-\u9fff]", chinese["kind_label"])


@pytest.mark.django_db
def test_operator_texts_and_holds_keep_both_languages(member, now) -> None:
    earn(member, 50, key="fund", now=now)
    adjusted = services.points_adjust(
        user_id=member.pk, amount=5, reason="补偿", reason_en="Compensation", actor_id=None, key="adj", now=now
    )
    assert Transfer.objects.get(pk=adjusted.transfer_id).reason_en == "Compensation"
    reversed_ = services.transfer_reverse(
        transfer_id=adjusted.transfer_id, key="rev", reason="误操作", reason_en="Mistake", now=now
    )
    assert Transfer.objects.get(pk=reversed_.transfer_id).reason_en == "Mistake"

    hold = services.hold_place(user_id=member.pk, amount=10, key="h1", reason="咖啡券", reason_en="Coffee", now=now)
    assert (hold.reason, hold.reason_en) == ("咖啡券", "Coffee")
    services.hold_capture(hold_id=hold.pk, now=now)
    other = services.hold_place(user_id=member.pk, amount=10, key="h2", reason="咖啡券", reason_en="Coffee", now=now)
    services.hold_void(hold_id=other.pk, now=now)
    settled = Transfer.objects.filter(kind__in=["hold", "capture", "void"]).values_list("kind", "reason_en")
    assert sorted(settled) == [("capture", "Coffee"), ("hold", "Coffee"), ("hold", "Coffee"), ("void", "Coffee")]


@pytest.mark.django_db
def test_bulk_awards_store_the_english_reason(member, make_user, now) -> None:
    other = make_user()
    services.transfers_post_batch(
        awards=[
            services.Award(key="a", user_id=member.pk, amount=1),
            services.Award(key="b", user_id=other.pk, amount=2),
        ],
        source=System("issuance"),
        reason="双十一礼包",
        reason_en="Singles' Day gift",
        now=now,
    )
    assert set(Transfer.objects.values_list("reason", "reason_en")) == {("双十一礼包", "Singles' Day gift")}
    services.transfer_post(
        key="plain", debit=System("issuance"), credit=Member(member.pk), amount=1, kind="earn", reason="x", now=now
    )
    assert Transfer.objects.get(idempotency_key="plain").reason_en == ""  # optional: blank means "show the Chinese"
