"""Code pools (mall.codes): a supplier's CSV file imported with a row report (each good code once, a re-import adds
nothing), codes generated with `secrets` (≥ 80 bits, unambiguous alphabet, collisions drawn again), and the low-pool
alert (once per pool until refilled; e-mail to the operators; the job on the beat schedule)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from accounts.models import User
from campaigns.models import Campaign
from config.codes import UNAMBIGUOUS, random_code
from lottery.builders import wheel_build
from lottery.models import PrizeKind
from mall import codes, jobs
from mall.builders import pool_build, supplier_build
from mall.codes import RowOutcome
from mall.models import Code, CodePool, Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def pool_codes(pool: CodePool) -> list[str]:
    return sorted(Code.objects.filter(pool=pool).values_list("code", flat=True))


def outcomes(report: codes.CodeImportReport) -> list[tuple[int, str, str]]:
    return [(row.row, row.code, row.outcome) for row in report.rows]


# --- Reading a file ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no codes"),
        ("\n \n,,\n", "holds no codes"),
        ("code\n", "holds no codes"),
        ("A" * 200_000, "readable"),
    ],
)
def test_a_file_without_codes_is_refused_and_adds_nothing(text: str, message: str) -> None:
    pool = pool_build()
    with pytest.raises(ValidationError, match=message):
        codes.code_pool_import_file(pool_id=pool.pk, text=text)
    assert pool_codes(pool) == []


# --- Importing with a row report ----------------------------------------------------------------------------------


def test_a_code_column_is_imported_with_a_report_row_per_row() -> None:
    pool = pool_build()
    codes.code_pool_import(pool=pool, text="OLD-0001")
    long_code = "X" * 80
    text = (
        "\ufeffName,Code,Value\n京东卡,JD-0001,50\n京东卡,JD-0002,50\n京东卡,JD-0001,50\n\n京东卡,ab,50\n,OLD-0001,\n"
    )
    text += f"京东卡,bad code!,50\n京东卡,{long_code},50\n京东卡,,50\n京东卡,  JD-0003  ,50\n"
    report = codes.code_pool_import_file(pool_id=pool.pk, text=text)

    assert outcomes(report) == [
        (2, "JD-0001", RowOutcome.ADDED),
        (3, "JD-0002", RowOutcome.ADDED),
        (4, "JD-0001", RowOutcome.DUPLICATE_IN_FILE),
        (6, "ab", RowOutcome.INVALID),  # line 5 is blank: skipped, not reported
        (7, "OLD-0001", RowOutcome.ALREADY_IN_POOL),
        (8, "bad code!", RowOutcome.INVALID),
        (9, "X" * 23 + "…", RowOutcome.INVALID),  # shown truncated
        (10, "", RowOutcome.INVALID),  # the code cell is empty
        (11, "JD-0003", RowOutcome.ADDED),
    ]
    assert report.counts == {"added": 3, "duplicate_in_file": 1, "already_in_pool": 1, "invalid": 4}
    assert report.added == 3
    assert [row.label for row in report.rows[:4]] == ["added", "added", "duplicate in file", "invalid"]
    assert pool_codes(pool) == ["JD-0001", "JD-0002", "JD-0003", "OLD-0001"]

    again = codes.code_pool_import_file(pool_id=pool.pk, text=text)  # the same file again adds nothing
    assert again.added == 0
    assert again.counts["already_in_pool"] == 4
    assert pool_codes(pool) == ["JD-0001", "JD-0002", "JD-0003", "OLD-0001"]


def test_one_code_per_line_without_a_header() -> None:
    pool = pool_build()
    report = codes.code_pool_import_file(pool_id=pool.pk, text="AAAA-1111\r\nBBBB-2222\nAAAA-1111\nCC,DD\n" + "E" * 65)
    assert outcomes(report) == [
        (1, "AAAA-1111", RowOutcome.ADDED),
        (2, "BBBB-2222", RowOutcome.ADDED),
        (3, "AAAA-1111", RowOutcome.DUPLICATE_IN_FILE),
        (4, "CC,DD", RowOutcome.INVALID),  # two values on one line are not one code
        (5, "E" * 23 + "…", RowOutcome.INVALID),  # 65 characters: one too many
    ]
    assert pool_codes(pool) == ["AAAA-1111", "BBBB-2222"]


def test_codes_are_per_pool_and_case_sensitive() -> None:
    first, second = pool_build(name="a"), pool_build(name="b")
    codes.code_pool_import_file(pool_id=first.pk, text="code\nAbCd-1\nabcd-1\n")
    report = codes.code_pool_import_file(pool_id=second.pk, text="code\nAbCd-1\n")
    assert report.added == 1
    assert pool_codes(first) == ["AbCd-1", "abcd-1"]


def test_importing_into_a_missing_pool_is_refused() -> None:
    with pytest.raises(ValidationError, match="No such code pool"):
        codes.code_pool_import_file(pool_id=987654321, text="AAAA-1111\n")
    assert not Code.objects.exists()


def test_the_paste_box_stays_all_or_nothing() -> None:
    pool = pool_build()
    assert codes.code_pool_import(pool=pool, text="GOOD-0001\nbad!\n") == (0, ["bad!"])
    assert codes.code_pool_import(pool=pool, text="GOOD-0001\nGOOD-0001\nGOOD-0002\n") == (2, [])
    assert codes.code_pool_import(pool=pool, text="GOOD-0002\nGOOD-0003\n") == (1, [])
    assert pool_codes(pool) == ["GOOD-0001", "GOOD-0002", "GOOD-0003"]


# --- Generating ---------------------------------------------------------------------------------------------------


def test_generated_codes_carry_at_least_80_bits_from_the_unambiguous_alphabet() -> None:
    assert codes.GENERATED_LENGTH * math.log2(len(set(UNAMBIGUOUS))) >= 80
    assert not set("0O1IL") & set(UNAMBIGUOUS)
    pool = pool_build()
    assert codes.code_pool_generate(pool_id=pool.pk, count=2000, prefix="JD50-") == 2000
    made = pool_codes(pool)
    assert len(made) == len(set(made)) == 2000
    shape = re.compile(rf"^JD50-[{UNAMBIGUOUS}]{{{codes.GENERATED_LENGTH}}}$")
    assert all(shape.match(code) for code in made)
    assert all(codes.CODE_PATTERN.match(code) for code in made)
    # Every symbol turns up (a sanity check of the draw, not a statistical test).
    assert set("".join(code[5:] for code in made)) == set(UNAMBIGUOUS)


def test_random_code_draws_every_symbol_evenly_at_every_position() -> None:
    """config.codes.random_code writes one uniform draw in base 31: each position must be uniform on its own (expected
    200 of each symbol per position; the bounds are 7 standard deviations wide, so only a biased draw fails)."""
    made = [random_code(4) for _ in range(len(UNAMBIGUOUS) * 200)]
    assert all(len(code) == 4 and set(code) <= set(UNAMBIGUOUS) for code in made)
    for position in range(4):
        counts = dict.fromkeys(UNAMBIGUOUS, 0)
        for code in made:
            counts[code[position]] += 1
        assert min(counts.values()) > 100, (position, counts)
        assert max(counts.values()) < 300, (position, counts)


def test_collisions_are_skipped_and_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = pool_build()
    codes.code_pool_import(pool=pool, text="TAKEN-AAAA")
    draws: Iterator[str] = iter(["TAKEN-AAAA", "NEW-1111", "NEW-1111", "TAKEN-AAAA", "NEW-2222", "NEW-3333"])
    monkeypatch.setattr(codes, "random_code", lambda length: next(draws))
    assert codes.code_pool_generate(pool_id=pool.pk, count=3) == 3
    assert pool_codes(pool) == ["NEW-1111", "NEW-2222", "NEW-3333", "TAKEN-AAAA"]


def test_a_generator_that_only_repeats_itself_fails_and_adds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = pool_build()
    codes.code_pool_import(pool=pool, text="SAME-CODE")
    monkeypatch.setattr(codes, "random_code", lambda length: "CODE")
    with pytest.raises(RuntimeError):
        codes.code_pool_generate(pool_id=pool.pk, count=2, prefix="SAME-")
    assert pool_codes(pool) == ["SAME-CODE"]


@pytest.mark.parametrize(
    ("count", "prefix", "field"),
    [
        (0, "", "count"),
        (100_001, "", "count"),
        (-5, "", "count"),
        (10, "bad prefix", "prefix"),
        (10, "P" * 21, "prefix"),
    ],
)
def test_bad_generation_requests_are_refused_and_add_nothing(count: int, prefix: str, field: str) -> None:
    pool = pool_build()
    with pytest.raises(ValidationError) as caught:
        codes.code_pool_generate(pool_id=pool.pk, count=count, prefix=prefix)
    assert field in caught.value.message_dict
    assert pool_codes(pool) == []


# --- Low-pool alerts ----------------------------------------------------------------------------------------------


@pytest.fixture
def operators(staff: Callable[[str], tuple[User, Any]], make_user: Callable[..., User]) -> list[User]:
    """Two operators with e-mail addresses and one without; an analyst (never e-mailed)."""
    first, _client = staff("operator")
    second, _client = staff("operator")
    silent, _client = staff("operator")
    User.objects.filter(pk=silent.pk).update(email="")
    staff("analyst")
    return [first, second]


def take(pool: CodePool, n: int, who: User) -> None:
    """Hand out n free codes of the pool (as orders and spins do)."""
    ids = list(Code.objects.filter(pool=pool, assigned_to__isnull=True).order_by("id").values_list("id", flat=True)[:n])
    for code_id in ids:
        Code.objects.filter(pk=code_id).update(
            assigned_to=who, assigned_at=timezone.now(), assignment_key=f"t{code_id}"
        )


def test_a_low_pool_in_use_alerts_the_operators_once_until_refilled(
    product: Callable[..., Product], operators: list[User], member: User, caplog: pytest.LogCaptureFixture
) -> None:
    pool = pool_build(codes=12, name="京东 E 卡", prefix="JD", supplier=supplier_build(name="京东"))
    CodePool.objects.filter(pk=pool.pk).update(low_threshold=10)
    product(delivery="code", code_pool=pool, stock=50)
    assert codes.code_pools_low_check() == []  # 12 free: fine

    take(pool, 3, member)  # 9 free < 10
    with caplog.at_level(logging.WARNING, logger="mall.codes"):
        alerted = codes.code_pools_low_check()
    assert [(low.pool_id, low.free, low.threshold) for low in alerted] == [(pool.pk, 9, 10)]
    pool.refresh_from_db()
    assert pool.low_alerted_at is not None
    assert "is low: 9 free codes" in caplog.text
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(str(user.email) for user in operators)
    assert "京东 E 卡" in message.subject
    assert "9" in message.body
    assert "京东" in message.body

    take(pool, 2, member)
    assert codes.code_pools_low_check() == []  # still low, already alerted: no second e-mail
    assert len(mail.outbox) == 1

    codes.code_pool_generate(pool_id=pool.pk, count=3)  # 10 free again: the mark is cleared
    pool.refresh_from_db()
    assert pool.low_alerted_at is None
    take(pool, 1, member)
    assert [low.pool_id for low in codes.code_pools_low_check()] == [pool.pk]  # runs low again: alerts again
    assert len(mail.outbox) == 2


def test_only_pools_in_use_alert(campaign: Campaign, product: Callable[..., Product], operators: list[User]) -> None:
    idle = pool_build(codes=1, name="idle", prefix="I")  # no product, no prize
    unlisted = pool_build(codes=1, name="unlisted", prefix="U")
    product(delivery="code", code_pool=unlisted, is_active=False)
    sold_out = pool_build(codes=1, name="sold out", prefix="S")
    product(delivery="code", code_pool=sold_out, stock=0)
    prize_pool = pool_build(codes=1, name="wheel coupons", prefix="W")
    wheel_build(campaign=campaign, prizes=[{"kind": PrizeKind.COUPON, "name": "券", "code_pool": prize_pool}])

    alerted = codes.code_pools_low_check()
    assert [low.pool_id for low in alerted] == [prize_pool.pk]
    assert set(CodePool.objects.filter(low_alerted_at__isnull=False).values_list("pk", flat=True)) == {prize_pool.pk}
    assert {idle.pk, unlisted.pk, sold_out.pk}.isdisjoint(low.pool_id for low in alerted)

    after_the_end = campaign.ends_at + timedelta(minutes=1)
    CodePool.objects.update(low_alerted_at=None)
    assert codes.code_pools_low_check(now=after_the_end) == []  # the campaign is over: nothing is in use


def test_an_alert_whose_mail_fails_is_taken_back(
    product: Callable[..., Product], operators: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = pool_build(codes=1)
    product(delivery="code", code_pool=pool)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(codes, "send_mail", broken)
    with pytest.raises(ConnectionRefusedError):
        codes.code_pools_low_check()
    pool.refresh_from_db()
    assert pool.low_alerted_at is None  # the next run tries again
    monkeypatch.undo()
    assert len(codes.code_pools_low_check()) == 1
    assert len(mail.outbox) == 1


def test_the_job_runs_eagerly_and_is_on_the_beat_schedule(
    product: Callable[..., Product], operators: list[User]
) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["mall-pools-low-check"]
    assert entry == {"task": "mall.pools_low_check", "schedule": 600.0}
    pool = pool_build(codes=2)
    product(delivery="code", code_pool=pool)
    result = jobs.pools_low_check.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert jobs.pools_low_check.apply().get() == 0  # once
    assert len(mail.outbox) == 1


def test_saving_a_pool_with_a_lower_threshold_ends_its_alert(product: Callable[..., Product]) -> None:
    pool = pool_build(codes=3)
    product(delivery="code", code_pool=pool)
    assert len(codes.code_pools_low_check()) == 1
    pool.refresh_from_db()
    pool.low_threshold = 3
    codes.code_pool_save(pool=pool)
    pool.refresh_from_db()
    assert pool.low_alerted_at is None
