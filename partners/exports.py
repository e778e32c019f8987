"""A partner's statement as a spreadsheet (the portal's CSV download): UTF-8 with BOM so Excel opens Chinese text,
text cells guarded against formula injection (shipments.selectors.csv_safe), amounts as plain numbers in yuan.
Headings in the reader's language."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from partners.models import Partner
from partners.selectors import StatementView
from shipments.selectors import csv_safe


def statement_csv(*, partner: Partner, view: StatementView) -> str:
    statement = view.statement
    out = io.StringIO()
    writer = csv.writer(out)
    rows: list[list[Any]] = [
        [_("Partner"), partner.company, partner.code],
        [_("Month"), statement.period],
        [_("Tier"), view.tier_name],
        [_("Status"), str(view.status.label)],
        [],
        [_("Sales (CNY)"), statement.sales_total],
        [_("Returns (CNY)"), statement.returns_total],
        [_("Net sales (CNY)"), statement.net_sales],
        [],
        [_("From (CNY)"), _("Up to (CNY)"), _("Rate (%)"), _("Sales in band (CNY)"), _("Rebate (CNY)")],
    ]
    rows += [
        [line.lower, "" if line.upper is None else line.upper, line.rate, line.base, line.amount] for line in view.lines
    ]
    rows += [
        [],
        [_("Opening payable (CNY)"), view.opening],
        [_("Rebate (CNY)"), view.rebate],
        [_("Annual bonus (CNY)"), view.bonus],
        [_("Recruiting rewards (CNY)"), view.referral],
        [_("Rebates taken back (CNY)"), view.clawback],
        [_("Paid out (CNY)"), view.paid],
        [_("Closing payable (CNY)"), view.closing],
    ]
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return "\ufeff" + out.getvalue()
