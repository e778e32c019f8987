"""Hostile input never gets a 5xx (issue 10, item 2; the JSON 414/431 of item 6).

First the known failures, one test each: deep nesting, a body over the upload limit, forged cursors, long URLs and
headers, Django's own refusals. Then Hypothesis: hostile JSON bodies and query strings sent to every operation of
the OpenAPI schema, anonymous and as a member with a bearer token, and hostile form posts to every page; each
answer must be below 500, API errors in the error shape, and a refused request must change nothing (the ledger's
transfers and balances, and the other tables a member can write to)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings

from accounts.models import User
from accounts.services import token_issue
from config.errors import MalformedBody, RequestTooLarge
from config.parsers import MAX_DEPTH, StrictJSONParser, json_loads_strict, nesting_depth_exceeds
from tests.points.conftest import earn

API = "/api/v1"


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    return error


def bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='hostile').access}"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- The parser on its own -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (nested(1000).encode(), "too_deep"),
        (nested(MAX_DEPTH + 1).encode(), "too_deep"),
        (('{"a":' * 70 + "1" + "}" * 70).encode(), "too_deep"),
        (b'{"a": "\xff\xfe"}', "invalid_utf8"),
        (b'"\xed\xa0\x80"', "invalid_utf8"),  # a surrogate encoded in UTF-8 bytes
        (b'{"a": "x\\u0000y"}', "control_character"),
        (b'{"a\\u0001": 1}', "control_character"),
        (b'["\\u009b"]', "control_character"),
        (b'{"a": "\\ud800"}', "lone_surrogate"),
        (b'["\\udc00x"]', "lone_surrogate"),
        (b'{"a": 1e999}', "number_out_of_range"),
        (b"[-1e400]", "number_out_of_range"),
        (b'{"a": NaN}', "number_out_of_range"),
        (b"[Infinity]", "number_out_of_range"),
        (b"9223372036854775808", "number_out_of_range"),
        (b"-9223372036854775809", "number_out_of_range"),
        (b"1" * 5000, "number_out_of_range"),  # past Python's own 4,300-digit limit too
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'{"a": 1', "syntax"),
        (b"", "syntax"),
        (b'"unterminated [[[[', "syntax"),
        (b'\xef\xbb\xbf{"a": 1}', "syntax"),  # a byte-order mark
    ],
)
def test_parser_refuses(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedBody) as caught:
        json_loads_strict(raw)
    assert caught.value.status == 400
    assert caught.value.code == "parse_error"
    assert caught.value.details["reason"] == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (nested(MAX_DEPTH).encode(), json.loads(nested(MAX_DEPTH))),
        (b'{"a": "[[[[[[[[[[{{{{{{{{{{", "b": ["\\"[", 9223372036854775807, -9223372036854775808]}', None),
        ('{"名字": "王小明\\t\\n", "emoji": "\\ud83d\\ude00"}'.encode(), {"名字": "王小明\t\n", "emoji": "😀"}),
        (b'{"price": 1.5e3, "x": null, "y": [true, false]}', {"price": 1500.0, "x": None, "y": [True, False]}),
    ],
)
def test_parser_accepts(raw: bytes, expected: Any) -> None:
    parsed = json_loads_strict(raw)
    assert parsed == (expected if expected is not None else json.loads(raw))


def test_depth_scan_ignores_brackets_in_strings_and_stops_at_an_unterminated_one() -> None:
    assert not nesting_depth_exceeds('["' + "[" * 500 + '"]', 2)
    assert not nesting_depth_exceeds('["\\"' + "[" * 500 + '"]', 2)
    assert nesting_depth_exceeds('["\\\\"' + "[" * 5 + '"]', 2)  # the escaped backslash ends the string
    assert not nesting_depth_exceeds('[["' + "[" * 500, 2)  # unterminated: json stops there anyway
    assert nesting_depth_exceeds("[[[", 2)


# --- Through the API ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"{API}/auth/token", f"{API}/auth/register", f"{API}/auth/token/refresh"])
def test_deep_nesting_is_400_on_anonymous_endpoints(url: str) -> None:
    response = Client().post(url, nested(1000), content_type="application/json")
    error = assert_error_shape(response, 400, "parse_error")
    assert error["details"] == {"reason": "too_deep", "max_depth": MAX_DEPTH}


@pytest.mark.django_db
def test_member_endpoints_refuse_hostile_bodies(member: User) -> None:
    client = Client()
    for body, reason in [
        (nested(1000), "too_deep"),
        ('{"recipient": "a\\u0000b"}', "control_character"),
        ('{"recipient": "\\ud800"}', "lone_surrogate"),
        ('{"recipient": 1e999}', "number_out_of_range"),
    ]:
        response = client.post(f"{API}/me/addresses", body, content_type="application/json", **bearer(member))
        assert assert_error_shape(response, 400, "parse_error")["details"]["reason"] == reason


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"{API}/auth/token", f"{API}/me/addresses", f"{API}/events"])
def test_a_body_over_the_upload_limit_is_413(url: str, settings: Any, member: User) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"recipient": "x" * 20_000})
    response = Client().post(url, body, content_type="application/json", **bearer(member))
    error = assert_error_shape(response, 413, "request_too_large")
    assert error["details"] == {"max_bytes": 10_000}


@pytest.mark.django_db
def test_the_default_upload_limit_answers_413_not_500() -> None:
    body = "[" + "1," * 1_400_000 + "1]"  # 2.8 MB, over the default 2.5 MiB
    response = Client().post(f"{API}/auth/token", body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")


@pytest.mark.django_db
def test_the_parser_limits_a_body_whose_length_was_not_declared(settings: Any) -> None:
    """Content-Length is what the middleware sees; the parser counts what it reads."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with pytest.raises(RequestTooLarge):
        StrictJSONParser().parse(io.BytesIO(b"[" + b"1," * 100 + b"1]"))
    assert StrictJSONParser().parse(io.BytesIO(b"[1, 2]")) == [1, 2]


@pytest.mark.django_db
def test_a_page_form_over_the_upload_limit_is_a_413_page(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/accounts/login/", {"username": "x" * 20_000, "password": "y"})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b'data-code="request_too_large"' in response.content


@pytest.mark.django_db
def test_a_multipart_page_form_whose_fields_exceed_the_limit_is_a_413_page(settings: Any) -> None:
    """Multipart bodies pass the middleware (files do not count); Django's RequestDataTooBig, raised when the
    view reads the fields, is answered by handler400 as 413."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/accounts/login/", {"username": "x" * 20_000, "password": "y"})  # multipart
    assert response.status_code == 413
    assert b'data-code="request_too_large"' in response.content


@pytest.mark.django_db
def test_too_many_form_fields_is_a_400_page(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{n}=1" for n in range(20))
    response = Client().post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert b'data-code="bad_request"' in response.content


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["testserver"])
def test_a_disallowed_host_on_the_api_is_a_json_400() -> None:
    response = Client().get(f"{API}/campaigns/", HTTP_HOST="evil.example")
    assert_error_shape(response, 400, "bad_request")


# --- Cursors -----------------------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = [
    _b64("p=abc"),
    _b64("p=%00"),
    _b64("o=5&p=2020-01-01T00:00:00"),
    _b64("r=1&p=99999999999999999999999"),
    "not-a-cursor",
    "%00",
    "x" * 2000,
    "W1swLGZhbHNlLCIxMCJdXQ:forgedsignature",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"{API}/points/history", f"{API}/me/prizes"])
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_a_forged_cursor_is_400_invalid_cursor(url: str, cursor: str, member: User) -> None:
    response = Client().get(url, {"cursor": cursor}, **bearer(member))
    assert_error_shape(response, 400, "invalid_cursor")


@pytest.mark.django_db
def test_a_signed_cursor_works_on_its_own_list_only(member: User) -> None:
    for amount in (1, 2, 3):
        earn(member, amount)
    client = Client()
    first = client.get(f"{API}/points/history", {"page_size": 2}, **bearer(member)).json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = client.get(f"{API}/points/history", {"page_size": 2, "cursor": cursor}, **bearer(member))
    assert [row["amount"] for row in second.json()["results"]] == [1]
    assert_error_shape(client.get(f"{API}/me/prizes", {"cursor": cursor}, **bearer(member)), 400, "invalid_cursor")
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    response = client.get(f"{API}/points/history", {"cursor": tampered}, **bearer(member))
    assert_error_shape(response, 400, "invalid_cursor")


# --- URL and header limits ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_long_url_is_a_json_414_on_the_api_and_a_page_elsewhere(member: User) -> None:
    client = Client()
    response = client.get(f"{API}/me?x=" + "a" * 5000, **bearer(member))
    assert_error_shape(response, 414, "uri_too_long")
    response = client.get("/?x=" + "a" * 5000)
    assert response.status_code == 414
    assert b'data-code="uri_too_long"' in response.content
    assert client.get(f"{API}/me?x=" + "a" * 3000, **bearer(member)).status_code == 200


@pytest.mark.django_db
def test_large_headers_are_a_json_431_on_the_api(member: User) -> None:
    headers = {f"HTTP_X_PAD_{n}": "v" * 4000 for n in range(5)}
    response = Client().get(f"{API}/me", **headers, **bearer(member))
    assert_error_shape(response, 431, "request_headers_too_large")
    assert Client().get(f"{API}/me", HTTP_X_PAD="v" * 4000, **bearer(member)).status_code == 200
