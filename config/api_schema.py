"""drf-spectacular post-processing: refusals every operation can meet, documented once instead of in every view.
config/middleware.py refuses a URL over 4 KB (414 `uri_too_long`) and headers over 16 KB (431
`request_headers_too_large`) before any view runs, whatever the route, in the error shape."""

from __future__ import annotations

from typing import Any

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
REFUSALS = {
    "414": "The URL is longer than 4 KB (`uri_too_long`).",
    "431": "The request headers are larger than 16 KB (`request_headers_too_large`).",
}


def document_refusals(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the middleware's refusals to every operation that does not document them itself."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in REFUSALS.items():
                operation["responses"].setdefault(status, {"description": description, "content": _ERROR})
    return result
