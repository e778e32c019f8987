"""config.negotiation.JsonFirstNegotiation answers the common Accept values at once, and every value exactly as DRF's
own negotiation does (issue 12: the hot paths skip parsing the Accept header, nothing else changes)."""

from __future__ import annotations

import pytest
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.negotiation import JsonFirstNegotiation

ACCEPTS = [
    None,
    "",
    "*/*",
    "application/json",
    "application/*",
    " application/json ",
    "application/json; indent=4",
    "application/json;q=0.9, */*;q=0.1",
    "text/html",
    "text/html, application/json",
    "image/png",
    "application/xml",
    "*/*; q=0",
]


def _outcome(negotiation: DefaultContentNegotiation, accept: str | None, query: str = "", renderers=None) -> object:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/v1/points/balance{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers or [JSONRenderer()])
    except (exceptions.NotAcceptable, exceptions.NotFound) as exc:
        return type(exc).__name__
    except Exception as exc:  # Http404 from the format override
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=xml", "?page_size=5"])
def test_the_same_answer_as_drf_for_every_accept_value(accept, query):
    assert _outcome(JsonFirstNegotiation(), accept, query) == _outcome(DefaultContentNegotiation(), accept, query)


@pytest.mark.parametrize("accept", ACCEPTS)
def test_with_several_renderers_drf_decides(accept):
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    assert _outcome(JsonFirstNegotiation(), accept, renderers=renderers) == _outcome(
        DefaultContentNegotiation(), accept, renderers=renderers
    )


def test_the_common_values_skip_the_parsing(monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("DRF's negotiation ran")

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", parse)
    for accept in (None, "*/*", "application/json", "application/*"):
        assert _outcome(JsonFirstNegotiation(), accept)[0] == "JSONRenderer"  # type: ignore[index]


@pytest.mark.django_db
def test_an_unacceptable_type_is_406_in_the_error_shape(member_api):
    response = member_api.get("/api/v1/points/balance", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"
