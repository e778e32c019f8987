"""GET /api/v1/health: liveness. `{"status": "ok"}` means this process is up and Django answers requests.

For a load balancer's or an orchestrator's liveness probe, and the ceiling bench/http.py measures the API's hot
paths against. It reads neither the database nor Redis, so it says nothing about them (it stays 200 while
Postgres is down: restarting the web process would not help then); no authentication, no rate limit.

A plain Django view, not a DRF one: a probe needs none of DRF's negotiation, and this is the cheapest JSON answer
the stack can give (the "trivial Django JSON view" of issue 12). So it is not in the OpenAPI schema, which
drf-spectacular builds from DRF views only; tests/test_authorization_matrix.py classifies it as public."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import MethodNotAllowed

from config.api import error_body

_ALLOWED = ("GET", "HEAD")


@csrf_exempt  # other methods get the JSON 405 below, not Django's HTML "CSRF cookie not set" 403
def health(request: HttpRequest) -> JsonResponse:
    if request.method not in _ALLOWED:
        refusal = MethodNotAllowed(request.method or "")
        response = JsonResponse(error_body(str(refusal.default_code), refusal.detail), status=refusal.status_code)
        response["Allow"] = ", ".join(_ALLOWED)
        return response
    response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"  # a cached "ok" would hide a dead process
    return response
