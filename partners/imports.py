"""Sales in bulk: a CSV file an operator imports in the admin, and a batch from a partner system's signed API call.

**CSV** (UTF-8 with or without BOM, or GBK; header row): `partner` (partner code), `external_id` (order id),
`sold_at` (ISO 8601 date or time; naive = the programme's time zone), `quantity`, `amount` (yuan, ≤ 2 places),
`currency` (CNY), `product` (optional), `original_id` (a return's original order id; a return's quantity and amount
are negative). Every row is checked first and the report lists each bad row with its line number and reason; if
any row is bad nothing is booked. Then all rows are booked in ONE transaction: the file is booked whole or not at
all (a row that fails while booking — a return larger than its sale, an id booked before with other content —
rolls the whole file back and is reported). Duplicate order ids inside the file are refused; rows already booked
with the same content count as replays.

**API** (`POST /api/v1/partner/sales`): one line or `{"sales": [...]}` (≤ 500). Each line is answered on its own
(`booked`, `duplicate`, or `rejected` with a code), each in its own transaction: idempotent by (partner, external
order id), so a partner system simply resends a batch after a timeout."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError
from partners.errors import InvalidSalesBatch, PartnerNotFound, SaleInvalid, SalesNotAllowed, TooManySales
from partners.models import ApiKey, Partner, Sale, SaleBatch
from partners.sales import SaleLine, sale_book, sale_line_parse

MAX_ROWS = 5000
MAX_API_LINES = 500
COLUMNS = ("partner", "external_id", "sold_at", "quantity", "amount", "currency", "product", "original_id")
REQUIRED = ("partner", "external_id", "sold_at", "quantity", "amount")


@dataclass
class RowProblem:
    line: int
    external_id: str
    code: str
    message: str


@dataclass
class ImportReport:
    booked: int = 0
    replayed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    batch: SaleBatch | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _problem(line: int, external_id: str, exc: Exception) -> RowProblem:
    if isinstance(exc, DomainError):
        details = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
        return RowProblem(line, external_id, exc.code, f"{exc.message}{' (' + details + ')' if details else ''}")
    return RowProblem(line, external_id, "invalid", str(exc))


class _Rollback(Exception):
    pass


def sales_csv_import(*, text: str, file_name: str, actor_id: int | None, now: datetime | None = None) -> ImportReport:
    """Book a sales CSV whole or not at all; the report lists every problem row."""
    now = now or timezone.now()
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationError(_("The file's header lacks: %(columns)s.") % {"columns": ", ".join(missing)})
    reader.fieldnames = header
    rows: list[tuple[int, Partner, SaleLine]] = []
    partners = {p.code: p for p in Partner.objects.all()}
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            raise ValidationError(_("At most %(rows)d rows per file.") % {"rows": MAX_ROWS})
        external_id = str(raw.get("external_id") or "").strip()[:64]
        code = str(raw.get("partner") or "").strip()
        try:
            if None in raw:
                raise SaleInvalid(details={"row": "more fields than the header"})
            partner = partners.get(code)
            if partner is None:
                raise PartnerNotFound(details={"partner": code[:20]})
            line = sale_line_parse({k: raw.get(k) for k in COLUMNS}, now=now)
            if (code, line.external_id) in seen:
                raise SaleInvalid(
                    _("This order id appears twice in the file."), details={"external_id": line.external_id}
                )
            seen.add((code, line.external_id))
            rows.append((index, partner, line))
        except DomainError as exc:
            report.problems.append(_problem(index, external_id, exc))
    if not rows and not report.problems:
        raise ValidationError(_("The file has no rows."))
    if report.problems:
        return report
    # Returns after the sales they return, whatever the file's order.
    rows.sort(key=lambda row: bool(row[2].original_id))
    try:
        with transaction.atomic():
            batch = SaleBatch.objects.create(file_name=file_name[:200], rows=len(rows), imported_by_id=actor_id)
            for index, partner, line in rows:
                try:
                    _sale, created = sale_book(partner=partner, line=line, source=Sale.Source.CSV, batch=batch, now=now)
                except DomainError as exc:
                    report.problems.append(_problem(index, line.external_id, exc))
                    continue
                if created:
                    report.booked += 1
                else:
                    report.replayed += 1
            if report.problems:
                raise _Rollback()
            report.batch = batch
    except _Rollback:
        report.booked = report.replayed = 0
    return report


@dataclass(frozen=True)
class LineResult:
    external_id: str
    status: str  # booked | duplicate | rejected
    code: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    sale_id: int | None = None


def sales_api_book(*, api_key: ApiKey, lines: list[Any], now: datetime | None = None) -> list[LineResult]:
    """Book a partner system's lines one by one (each line its own transaction). A key bound to a partner books only
    that partner's sales; an unbound key that may report sales names the partner by code in each line."""
    now = now or timezone.now()
    results = []
    partners: dict[str, Partner | None] = {}
    for raw in lines:
        external_id = str(raw.get("external_id") or "")[:64] if isinstance(raw, dict) else ""
        try:
            if not isinstance(raw, dict):
                raise SaleInvalid(details={"line": "an object is required"})
            code = str(raw.get("partner") or "").strip()[:20]
            if not code.isprintable():  # a NUL would reach the database as a lookup (a 500)
                raise SaleInvalid(details={"partner": "printable text is required"})
            if api_key.partner is not None:
                if code and code != api_key.partner.code:
                    raise SalesNotAllowed(details={"partner": code})
                partner: Partner | None = api_key.partner
            else:
                if code not in partners:
                    partners[code] = Partner.objects.filter(code=code).first() if code else None
                partner = partners[code]
            if partner is None:
                raise PartnerNotFound(details={"partner": code})
            line = sale_line_parse(raw, now=now)
            sale, created = sale_book(partner=partner, line=line, source=Sale.Source.API, api_key=api_key, now=now)
        except DomainError as exc:
            results.append(LineResult(external_id, "rejected", exc.code, str(exc.message), exc.details))
            continue
        results.append(LineResult(line.external_id, "booked" if created else "duplicate", sale_id=sale.pk))
    return results


def sales_api_submit(*, api_key: ApiKey, payload: Any, now: datetime | None = None) -> list[LineResult]:
    """The body of POST /api/v1/partner/sales: one sale object or {"sales": [...]} with 1..MAX_API_LINES lines, from
    a key that may report sales (else SalesNotAllowed, 403). A malformed or oversized batch is refused whole
    (InvalidSalesBatch 400, TooManySales 413: nothing booked); otherwise each line is answered (sales_api_book)."""
    if not api_key.reports_sales:
        raise SalesNotAllowed(_("This key may not report sales."))
    if isinstance(payload, dict) and "sales" in payload:
        lines = payload["sales"]
    elif isinstance(payload, dict) and payload:
        lines = [payload]
    else:
        raise InvalidSalesBatch()
    if not isinstance(lines, list) or not lines:
        raise InvalidSalesBatch()
    if len(lines) > MAX_API_LINES:
        raise TooManySales(details={"max": MAX_API_LINES, "received": len(lines)})
    return sales_api_book(api_key=api_key, lines=lines, now=now)
