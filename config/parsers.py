"""The API's one JSON parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): a hostile body is refused as
400 `parse_error` (the refusal in `details.reason`) or 413 `request_too_large`, never a server error.

What it refuses, and why each matters:

- `request_too_large`: more than settings.DATA_UPLOAD_MAX_MEMORY_SIZE bytes (config/middleware.py refuses a
  declared Content-Length over it before anything reads the body; this catches the rest).
- `invalid_utf8`: JSON between systems is UTF-8 (RFC 8259 §8.1), whatever charset the Content-Type names.
- `too_deep`: arrays/objects nested more than MAX_DEPTH levels, found by a scan of the brackets outside strings
  *before* `json.loads` recurses (1,000 levels used to raise RecursionError: a 500).
- `control_character`: NUL (PostgreSQL text cannot store it: another 500), C0 controls other than tab, LF and CR,
  DEL and C1 controls, in any key or string. Nothing the API takes needs them. (A batch endpoint that answers
  per item uses ItemValidatedJSONParser instead: there they are the item's error, not the batch's.)
- `lone_surrogate`: a `\\ud800`-style escape without its pair decodes to a str that cannot be encoded as UTF-8
  (it would fail later, in the database driver or the renderer).
- `number_out_of_range`: integers outside a signed 64-bit range (every id and amount is a PostgreSQL bigint or
  smaller; Python's own 4,300-digit limit is far past that), floats that overflow to infinity (`1e999`), and
  NaN/Infinity literals.
- `duplicate_key`: `{"a": 1, "a": 2}`. Parsers disagree on which value wins, and a body that was signed
  (partners) or checked by something else must mean one thing only.
- `syntax`: anything else `json` refuses, with the line and column.
"""

from __future__ import annotations

import json
import math
import re
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.parsers import JSONParser

from config.errors import MalformedBody, RequestTooLarge

MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

# A whole string (escapes included; possessive, so a long string is one linear match), else an unterminated
# string's opening quote, else a bracket. Brackets inside strings are never counted.
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|"|[\[\]{}]', re.DOTALL)
# C0 controls but tab/LF/CR, DEL, C1 controls; then UTF-16 surrogates (only lone ones survive json decoding).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

MESSAGES = {
    "syntax": _("The request body is not valid JSON."),
    "invalid_utf8": _("The request body must be encoded as UTF-8."),
    "too_deep": _("The request body is nested too deeply."),
    "control_character": _("The request body contains a NUL or control character."),
    "lone_surrogate": _("The request body contains an invalid Unicode escape (a lone surrogate)."),
    "number_out_of_range": _("A number in the request body is out of range."),
    "duplicate_key": _("A key appears twice in the same object."),
}


class _Refused(Exception):
    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def refuse(reason: str, **details: Any) -> MalformedBody:
    return MalformedBody(MESSAGES[reason], details={"reason": reason, **details})


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True as soon as brackets outside strings nest deeper than `limit`. An unterminated string ends the scan:
    the JSON is invalid there, and json.loads will stop at it having nested no deeper than counted so far."""
    depth = 0
    for match in _TOKENS.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            depth += 1
            if depth > limit:
                return True
        elif lexeme in "]}":
            depth -= 1
        elif lexeme == '"':
            return False
    return False


def _parse_int(text: str) -> int:
    if len(text) > 20:  # cheaper than int() on a long digit string, and never in range
        raise _Refused("number_out_of_range")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise _Refused("number_out_of_range")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("number_out_of_range")
    return value


def _parse_constant(text: str) -> Any:
    raise _Refused("number_out_of_range")  # NaN, Infinity, -Infinity


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _Refused("duplicate_key", key=_SURROGATE.sub("\ufffd", _CONTROL.sub("\ufffd", key[:100])))
            seen.add(key)
    return obj


def _check_strings(data: Any, *, control_characters: bool) -> None:
    """Every key and string value, iteratively (the depth is already bounded, but no recursion is needed)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings: list[str] = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in strings:
            if control_characters and _CONTROL.search(text):
                raise refuse("control_character")
            if _SURROGATE.search(text):
                raise refuse("lone_surrogate")


def json_loads_strict(raw: bytes, *, control_characters: bool = True) -> Any:
    """Decode a request body with every refusal above (MalformedBody); the size limit is the caller's.
    `control_characters=False` lets NUL and control characters through to the serializers (see
    ItemValidatedJSONParser)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse("invalid_utf8", position=exc.start) from None
    if nesting_depth_exceeds(text, MAX_DEPTH):
        raise refuse("too_deep", max_depth=MAX_DEPTH)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _Refused as exc:
        raise refuse(exc.reason, **exc.details) from None
    except json.JSONDecodeError as exc:
        raise refuse("syntax", line=exc.lineno, column=exc.colno) from None
    except (ValueError, RecursionError):  # defence in depth: neither should get past the checks above
        raise refuse("syntax") from None
    _check_strings(data, control_characters=control_characters)
    return data


class StrictJSONParser(JSONParser):
    """DRF's JSONParser with the refusals of `json_loads_strict` and a size limit."""

    refuse_control_characters = True

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        return json_loads_strict(raw, control_characters=self.refuse_control_characters)


class ItemValidatedJSONParser(StrictJSONParser):
    """For a batch endpoint that validates each item and answers per item (partner events: `rejected` with the
    item's field errors): a NUL or control character in one item's field is that item's error, refused by its
    serializer (DRF's CharField refuses NUL and surrogates; a date, decimal or slug field refuses anything
    else), not the whole batch's. Every other refusal stays whole-body."""

    refuse_control_characters = False
