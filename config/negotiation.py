"""Content negotiation for an API that speaks JSON only, without parsing the Accept header of the common case.

DRF's DefaultContentNegotiation parses every request's Accept header into media types and matches them against
the renderers: ~0.05 ms per request, a tenth of a hot read (issue 12). This API has one renderer (JSONRenderer,
REST_FRAMEWORK "DEFAULT_RENDERER_CLASSES"), and the mobile app sends `Accept: application/json` (or no Accept header,
or `*/*`). Those exact values get the JSON renderer at once — the answer DRF's negotiation gives them; anything else
(other types, q-values, a `?format=` override, several renderers) goes through DRF's negotiation unchanged, 406
and 404 included. tests/test_api_negotiation.py compares the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

# The Accept values answered at once; the media type they get is what DRF's negotiation gives them.
_PLAIN: dict[str | None, str | None] = {
    None: None,
    "*/*": None,
    "application/json": "application/json",
    "application/*": None,
}


class JsonFirstNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        accept = request.META.get("HTTP_ACCEPT")  # None: no header (DRF reads it as */*; an empty one is a 406)
        if (
            accept in _PLAIN
            and len(renderers) == 1
            and renderers[0].media_type == "application/json"
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            renderer = renderers[0]
            return renderer, _PLAIN[accept] or renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
