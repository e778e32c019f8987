"""Reading a CSV file an operator uploads (a supplier's code file, the logistics company's shipment sheet): at
most 2 MB, UTF-8 with or without BOM, or GBK (what Excel in Chinese saves). Parsing the rows is each import's own."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 2 * 1024 * 1024
ENCODINGS = ("utf-8-sig", "gbk")  # Excel in Chinese saves CSV as GBK


def csv_text_decode(*, raw: bytes) -> str:
    """The text of an uploaded file (a BOM dropped), or a ValidationError saying why not."""
    if len(raw) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 2 MB. Split it into smaller files."))
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is neither UTF-8 nor GBK text. Save it as CSV (UTF-8) and retry."))


def csv_upload_read(*, file: IO[bytes]) -> str:
    """The text of an uploaded file, read only one byte past the limit (enough to refuse a larger one)."""
    return csv_text_decode(raw=file.read(MAX_BYTES + 1))
