"""Reading an uploaded CSV file (config/csvfiles.py), shared by the code pool import and the shipment sheet: UTF-8
with or without BOM, or GBK; anything else, or more than 2 MB, refused with a message saying why."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from config.csvfiles import MAX_BYTES, csv_text_decode, csv_upload_read


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_utf8_with_and_without_bom_and_gbk_files_decode() -> None:
    text = "名称,code\n京东卡,JD-0001\n"
    assert csv_text_decode(raw=text.encode("utf-8")) == text
    assert csv_text_decode(raw=b"\xef\xbb\xbf" + text.encode("utf-8")) == text  # the BOM is dropped
    assert csv_text_decode(raw=text.encode("gbk")) == text
    assert csv_text_decode(raw="\ufeffshipment_id\n1\n".encode()) == "shipment_id\n1\n"
    assert csv_text_decode(raw="顺丰".encode("gbk")) == "顺丰"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"CODE-0001\n\xff\xfe\xff\n", "neither UTF-8 nor GBK"),
        (b"\x80\xff\xfe", "neither UTF-8 nor GBK"),
        (b"#" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
    ],
)
def test_a_file_in_another_encoding_or_over_2_mb_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        csv_text_decode(raw=raw)


def test_exactly_2_mb_is_accepted() -> None:
    assert len(csv_text_decode(raw=b"#" * MAX_BYTES)) == MAX_BYTES


def test_an_upload_is_read_only_one_byte_past_the_limit() -> None:
    file = io.BytesIO(b"#" * (3 * MAX_BYTES))
    with pytest.raises(ValidationError, match="larger than 2 MB"):
        csv_upload_read(file=file)
    assert file.tell() == MAX_BYTES + 1
    assert csv_upload_read(file=io.BytesIO("顺丰,SF-1\n".encode("gbk"))) == "顺丰,SF-1\n"
