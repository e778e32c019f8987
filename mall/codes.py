"""Every write of code pools: a pool's own fields, codes pasted in the admin, a supplier's CSV file imported with a
row report, codes generated with `secrets`, and the low-pool alert. Taking a code for a member happens inside the
order and spin SQL (mall_order_place(), lottery_spin()), never here.

A code is added once: every insert is `ON CONFLICT (pool_id, code) DO NOTHING RETURNING code`, so the database
says which codes were new even when two imports into one pool race."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.codes import UNAMBIGUOUS, random_code
from lottery.models import Prize, PrizeKind
from mall.models import Code, CodePool, Delivery, Product

logger = logging.getLogger(__name__)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
CODE_COLUMN = "code"
SHOWN_CODE_CHARS = 24  # a report row shows at most this much of a code
INSERT_CHUNK = 10_000

GENERATE_MAX = 100_000
GENERATED_LENGTH = 17  # 17 symbols of 31: 17 × log2(31) ≈ 84.2 bits (at least 80)
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{0,20}$")
GENERATE_ROUNDS = 20  # rounds in a row that add nothing before generation gives up (never, with 84 bits)
OPERATOR_GROUP = "operator"

assert len(set(UNAMBIGUOUS)) ** GENERATED_LENGTH >= 2**80


# --- Inserting ------------------------------------------------------------------------------------------------


def _insert(pool_id: int, codes: list[str]) -> set[str]:
    """Insert codes into a pool; returns those that were new (the others were already there)."""
    added: set[str] = set()
    sql = (
        f"INSERT INTO {Code._meta.db_table} (pool_id, code) SELECT %s, c FROM unnest(%s::text[]) AS c "  # noqa: S608 — the table name is ours
        "ON CONFLICT (pool_id, code) DO NOTHING RETURNING code"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(codes), INSERT_CHUNK):
            cursor.execute(sql, [pool_id, codes[start : start + INSERT_CHUNK]])
            added.update(row[0] for row in cursor.fetchall())
    return added


def _free(pool_id: int) -> int:
    return Code.objects.filter(pool_id=pool_id, assigned_to__isnull=True).count()


def _refilled(pool_id: int) -> None:
    """A pool holding at least its threshold of free codes again may alert again when it next runs low."""
    pool = CodePool.objects.filter(pk=pool_id, low_alerted_at__isnull=False).first()
    if pool is not None and _free(pool_id) >= pool.low_threshold:
        CodePool.objects.filter(pk=pool_id).update(low_alerted_at=None)


def _pool_required(pool_id: int) -> None:
    if not CodePool.objects.filter(pk=pool_id).exists():
        raise ValidationError(_("No such code pool."))


def code_pool_save(*, pool: CodePool) -> CodePool:
    """Validate and save a pool's own fields (name, supplier, alert threshold)."""
    pool.full_clean(exclude=["low_alerted_at"])
    with transaction.atomic():
        pool.save()
        _refilled(pool.pk)  # a lowered threshold may end an alert
    return pool


# --- Pasted codes (the admin's text box) ----------------------------------------------------------------------


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def code_lines_rejected(*, text: str) -> list[str]:
    """The lines code_pool_import would reject (not 4-64 letters, digits, '-' or '_'); empty when all are fine.
    Forms call it to show the lines before anything is added."""
    return [line for line in _code_lines(text) if not CODE_PATTERN.match(line)]


def code_pool_import(*, pool: CodePool, text: str) -> tuple[int, list[str]]:
    """Add codes (one per line) to a pool. Returns (added, rejected lines); codes already in the pool are
    skipped. A line that is not 4-64 letters, digits, '-' or '_' is rejected and nothing is added."""
    lines = _code_lines(text)
    bad = code_lines_rejected(text=text)
    if bad:
        return 0, bad
    with transaction.atomic():
        added = _insert(pool.pk, list(dict.fromkeys(lines)))
        _refilled(pool.pk)
    return len(added), []


# --- A supplier's file, with a row report ---------------------------------------------------------------------


class RowOutcome(models.TextChoices):
    ADDED = "added", gettext_lazy("added")
    DUPLICATE_IN_FILE = "duplicate_in_file", gettext_lazy("duplicate in file")
    ALREADY_IN_POOL = "already_in_pool", gettext_lazy("already in pool")
    INVALID = "invalid", gettext_lazy("invalid")


def code_shown(code: str) -> str:
    """A code as a report shows it: at most SHOWN_CODE_CHARS characters."""
    return code if len(code) <= SHOWN_CODE_CHARS else code[: SHOWN_CODE_CHARS - 1] + "…"


@dataclass(frozen=True)
class ReportRow:
    row: int  # the line of the file (the header is line 1)
    code: str  # truncated (code_shown)
    outcome: str  # a RowOutcome value

    @property
    def label(self) -> str:
        return str(RowOutcome(self.outcome).label)


@dataclass(frozen=True)
class CodeImportReport:
    rows: list[ReportRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def added(self) -> int:
        return self.counts.get(RowOutcome.ADDED, 0)

    @property
    def problems(self) -> list[ReportRow]:
        return [row for row in self.rows if row.outcome != RowOutcome.ADDED]


def code_file_rows(*, text: str) -> list[tuple[int, str]]:
    """(line number, code) for every non-empty row of a code file: the `code` column when the first row names
    one, else each line's one value (a line with several values is kept whole, to be reported invalid)."""
    try:
        table = [(number, [cell.strip() for cell in cells]) for number, cells in _csv_rows(text.lstrip("\ufeff"))]
    except csv.Error as exc:
        raise ValidationError(_("The file is not a readable CSV file: %(problem)s") % {"problem": exc}) from exc
    table = [(number, cells) for number, cells in table if any(cells)]
    if not table:
        raise ValidationError(_("The file holds no codes."))
    header = [cell.lower() for cell in table[0][1]]
    if CODE_COLUMN in header:
        column = header.index(CODE_COLUMN)
        rows = [(number, cells[column] if column < len(cells) else "") for number, cells in table[1:]]
    else:
        rows = [(number, ",".join(cell for cell in cells if cell)) for number, cells in table]
    if not rows:
        raise ValidationError(_("The file holds no codes."))
    return rows


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    for cells in reader:
        yield reader.line_num, cells


def code_pool_import_file(*, pool_id: int, text: str) -> CodeImportReport:
    """Import a code file into a pool: each good code once, whatever repeats in the file or is already in the
    pool. Returns one report row per code row: added, duplicate in file, already in pool, or invalid (not 4-64
    letters, digits, '-' or '_'). Importing the same file again adds nothing. A file that cannot be read raises
    ValidationError (code_file_rows) and nothing is added."""
    rows = code_file_rows(text=text)
    _pool_required(pool_id)
    seen: set[str] = set()
    outcome: dict[int, str] = {}
    fresh: list[str] = []
    for number, code in rows:
        if not CODE_PATTERN.match(code):
            outcome[number] = RowOutcome.INVALID
        elif code in seen:
            outcome[number] = RowOutcome.DUPLICATE_IN_FILE
        else:
            seen.add(code)
            fresh.append(code)
    with transaction.atomic():
        added = _insert(pool_id, fresh)
        _refilled(pool_id)
    report: list[ReportRow] = []
    for number, code in rows:
        if number not in outcome:
            outcome[number] = RowOutcome.ADDED if code in added else RowOutcome.ALREADY_IN_POOL
        report.append(ReportRow(row=number, code=code_shown(code), outcome=outcome[number]))
    counts = {str(name): 0 for name in RowOutcome}
    for row in report:
        counts[row.outcome] += 1
    return CodeImportReport(rows=report, counts=counts)


# --- Generated codes ------------------------------------------------------------------------------------------


def code_pool_generate(*, pool_id: int, count: int, prefix: str = "") -> int:
    """Add `count` (1-100,000) new codes to a pool: `prefix` (0-20 letters, digits, '-' or '_') followed by 17
    symbols drawn with `secrets` from the unambiguous alphabet (≈ 84 bits). A code that happens to exist already
    is skipped and another drawn, so exactly `count` are added. Returns the number added."""
    problems: dict[str, str] = {}
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= GENERATE_MAX:
        problems["count"] = _("Generate between 1 and %(max)s codes at a time.") % {"max": f"{GENERATE_MAX:,}"}
    if not PREFIX_PATTERN.match(prefix or ""):
        problems["prefix"] = _("The prefix may have up to 20 letters, digits, “-” or “_”.")
    if problems:
        raise ValidationError(problems)
    _pool_required(pool_id)
    added, idle = 0, 0
    with transaction.atomic():
        while added < count:
            wanted = min(count - added, INSERT_CHUNK)
            batch = list(dict.fromkeys(prefix + random_code(GENERATED_LENGTH) for _ in range(wanted)))
            new = len(_insert(pool_id, batch))
            added += new
            idle = 0 if new else idle + 1
            if idle >= GENERATE_ROUNDS:
                raise RuntimeError("code generation keeps drawing existing codes")  # the generator is broken
        _refilled(pool_id)
    return added


# --- Low-pool alerts ------------------------------------------------------------------------------------------


def pools_in_use(*, now: datetime) -> list[int]:
    """Pools that members draw codes from: those of listed code products in stock whose campaign has not ended,
    and those of coupon prizes in stock on live wheels (campaign published, warm-up begun, not ended)."""
    products = Product.objects.filter(
        is_active=True, delivery=Delivery.CODE, code_pool__isnull=False, stock__gt=0, campaign__ends_at__gt=now
    ).values_list("code_pool_id", flat=True)
    prizes = (
        Prize.objects.filter(
            kind=PrizeKind.COUPON,
            code_pool__isnull=False,
            wheel__campaign__is_published=True,
            wheel__campaign__warmup_starts_at__lte=now,
            wheel__campaign__ends_at__gt=now,
        )
        .filter(Q(stock_remaining__isnull=True) | Q(stock_remaining__gt=0))
        .values_list("code_pool_id", flat=True)
    )
    return sorted({int(pk) for pk in (*products, *prizes) if pk is not None})


@dataclass(frozen=True)
class LowPool:
    pool_id: int
    name: str
    supplier: str
    free: int
    threshold: int


def code_pools_low_check(*, now: datetime | None = None) -> list[LowPool]:
    """Alert operators once about each pool in use whose free codes fell below its threshold: mark the pool
    (`low_alerted_at`, a conditional update, so two runs at once alert once), log a warning and e-mail the
    operator group. A pool that holds its threshold again is unmarked (imports and generation do this too), so
    it alerts again the next time it runs low. Returns the pools alerted now. If the e-mail cannot be sent the
    marks are taken back, so the next run tries again."""
    now = now or timezone.now()
    pools = CodePool.objects.select_related("supplier").annotate(
        free=Count("codes", filter=Q(codes__assigned_to__isnull=True))
    )
    in_use = set(pools_in_use(now=now))
    alerted: list[LowPool] = []
    with transaction.atomic():
        for pool in pools.filter(Q(pk__in=in_use) | Q(low_alerted_at__isnull=False)):
            free = int(pool.free)
            if free >= pool.low_threshold:
                CodePool.objects.filter(pk=pool.pk, low_alerted_at__isnull=False).update(low_alerted_at=None)
                continue
            marked = pool.pk in in_use and pool.low_alerted_at is None
            if marked and CodePool.objects.filter(pk=pool.pk, low_alerted_at__isnull=True).update(low_alerted_at=now):
                supplier = pool.supplier.name if pool.supplier else ""
                alerted.append(LowPool(pool.pk, pool.name, supplier, free, pool.low_threshold))
    for low in alerted:
        logger.warning(
            "code pool %s (%s) is low: %d free codes, alert below %d", low.pool_id, low.name, low.free, low.threshold
        )
    if alerted:
        try:
            _low_mail(alerted)
        except Exception:
            logger.exception("low-pool alert e-mail failed; the pools are unmarked to alert again")
            CodePool.objects.filter(pk__in=[low.pool_id for low in alerted], low_alerted_at=now).update(
                low_alerted_at=None
            )
            raise
    return alerted


def _low_mail(alerted: list[LowPool]) -> int:
    users = get_user_model().objects.filter(groups__name=OPERATOR_GROUP, is_active=True).exclude(email="")
    recipients = sorted({str(email) for email in users.values_list("email", flat=True)})
    if not recipients:
        logger.warning("no operator has an e-mail address; the low-pool alert was logged only")
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        names = ", ".join(low.name for low in alerted)
        subject = _("Code pools running low: %(names)s") % {"names": names}
        lines = [
            _("%(name)s (supplier: %(supplier)s): %(free)d free codes left, alert below %(threshold)d.")
            % {"name": low.name, "supplier": low.supplier or "-", "free": low.free, "threshold": low.threshold}
            for low in alerted
        ]
        body = "\n".join(
            [*lines, "", _("Import or generate codes in the admin: Mall › Code pools (/admin/mall/codepool/).")]
        )
    return send_mail(subject, body, None, recipients)
