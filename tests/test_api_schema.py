"""Property-based contract tests for the whole /api/v1/ surface, driven by the generated OpenAPI schema.

Schemathesis reads /api/schema/ from the Django app in-process (WSGI, no server) and, for every documented
operation, sends generated requests twice over: once anonymous and once as a signed-in member. Every
response must not be a 5xx and must match what the schema promises (status code, content type, headers,
body). New endpoints are covered automatically as soon as they appear in the schema.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import DataGenerationMethod, GenerationConfig
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.types import NotSet

from accounts.models import User
from accounts.services import token_issue, user_create


def _restore_many_more() -> None:
    """Compatibility shim: hypothesis-jsonschema 0.23.1 (the latest, pulled in by schemathesis 3.x) drives
    Hypothesis' internal ``many`` helper through ``more()``, which newer Hypothesis releases replaced with a
    ``with many(...) as elements: for _ in elements`` protocol. Re-add ``more()`` on top of the new internals,
    with the old semantics (one span per element, balanced when it returns False). A no-op once either side
    is fixed; drop it when hypothesis-jsonschema or schemathesis stop calling ``more()``.
    """
    from hypothesis.internal.conjecture import utils as conjecture_utils

    many = conjecture_utils.many
    if hasattr(many, "more") or not hasattr(many, "_decide"):
        return

    def more(self: Any) -> bool:
        if self._depth is None:  # first call stands in for __enter__/__iter__
            self._depth = self.data.depth
            self._iterated = True
        self._finish_element()
        if not self._decide():
            self._closed = True
            return False
        self.count += 1
        self._in_element = True
        self._rejected = False
        return True

    many.more = more


_restore_many_more()

application = get_wsgi_application()

schema = schemathesis.from_wsgi(
    "/api/schema/?format=json",
    application,
    data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    # Credentials are not fuzzed input: each test sends none or a real bearer token. (Otherwise a negative
    # example that only mangles the optional session cookie would be "accepted" by bearer auth and flagged.)
    generation_config=GenerationConfig(with_security_parameters=False),
)


@schema.hook
def filter_case(context: schemathesis.hooks.HookContext, case: schemathesis.Case) -> bool:
    # Schemathesis 3.x may draw "no body" for an optional request body in a negative example and still count
    # the example as negative; omitting an optional body is a valid request, so the negative-data check would
    # wrongly expect it to be refused. Drop those examples (negative bodies that are really sent stay).
    omitted_body = isinstance(case.body, NotSet) or case.body is None
    return not (case.data_generation_method.is_negative and omitted_body and context.operation.body)


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
# Not `negative_data_rejection`: DRF deliberately coerces JSON numbers into string fields (and "true"/1 into
# booleans), so {"refresh": 0} is accepted as "0". That is framework leniency, not a bug; negative examples
# are still sent and must still be answered with a documented 4xx in the error shape, never a 5xx.

# Bounded so the whole file runs in a couple of minutes on two cores (raise SCHEMATHESIS_MAX_EXAMPLES for a
# deeper run). Derandomized, so a failure reproduces on the next run; the phases leave out "explain", which
# only re-runs a failing example to annotate it.
FUZZ = hypothesis_settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def schema_member(transactional_db: Any) -> User:
    return user_create(phone="+8613900009999", email="schema@example.com", password="Schema-fuzz-2026")


def _reset_limits() -> None:
    # Auth endpoints are throttled and login failures count towards an axes lockout. Both are correct and
    # documented (429), but resetting them per example keeps the fuzzer exercising the real code paths.
    cache.clear()


def _security(case: schemathesis.Case) -> list[dict[str, Any]]:
    return case.operation.definition.raw.get("security", schema.raw_schema.get("security", []))


def _requires_auth(case: schemathesis.Case) -> bool:
    """True unless the operation lists the empty security requirement (`AllowAny` views)."""
    return {} not in _security(case)


def _accepts_bearer(case: schemathesis.Case) -> bool:
    """False for operations only partner systems call (signed with an API key, not a member's token)."""
    return any("bearerAuth" in requirement for requirement in _security(case))


# transaction=True: each request commits for real (as under gunicorn), so on_commit hooks run and a
# request that closes its connection does not poison a test-wide transaction.
@schema.parametrize()
@FUZZ
@pytest.mark.django_db(transaction=True)
def test_api_anonymous(case: schemathesis.Case) -> None:
    _reset_limits()
    response = case.call_and_validate(checks=CHECKS)
    if _requires_auth(case):
        # 404 when the URL itself does not resolve (address id -1): routing comes before authentication; 414/431
        # when the middleware refuses an oversized URL or headers before anything runs (config/api_schema.py).
        assert response.status_code in {401, 404, 414, 431}, "a protected operation answered an anonymous request"


@schema.parametrize()
@FUZZ
@pytest.mark.django_db(transaction=True)
def test_api_authenticated(case: schemathesis.Case, schema_member: User) -> None:
    _reset_limits()
    # A fresh token per example: POST /auth/token/revoke legitimately revokes the token it was called with.
    access = token_issue(user=schema_member, name="schemathesis").access
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {access}"}
    response = case.call_and_validate(checks=CHECKS)
    if _requires_auth(case) and _accepts_bearer(case):
        assert response.status_code != 401, "a valid bearer token was refused"


# --- Regressions the fuzzer found --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_unknown_api_url_is_a_json_404_for_every_method(method: str) -> None:
    """The /api/ catch-all used to be CSRF-checked, so PATCH /api/v1/me/addresses/-1 got an HTML 403."""
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/me/addresses/-1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.filterwarnings("ignore::django.core.cache.backends.base.CacheKeyWarning")
@pytest.mark.django_db
def test_session_cookie_with_nul_byte_is_not_a_server_error() -> None:
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abc\x00defghijk"
    response = client.get("/api/v1/me")
    assert response.status_code == 401


# --- The schema itself and the docs page ---------------------------------------------------------------


def test_openapi_schema_is_valid_without_warnings(tmp_path: Any) -> None:
    """drf-spectacular validates against the OpenAPI 3 meta-schema; any warning (untyped field...) fails."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3.")
    assert "/api/v1/me:" in text


def test_every_api_operation_documents_the_error_shape() -> None:
    """Each operation declares at least one 4xx response, and all 4xx responses use the shared Error schema."""
    raw = schema.raw_schema
    assert "Error" in raw["components"]["schemas"]
    operations = 0
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations += 1
            errors = {code: body for code, body in operation["responses"].items() if code.startswith("4")}
            assert errors, (
                f"{method.upper()} {path} documents no error responses: add e.g. "
                "responses={..., 400: ErrorSerializer, 401: ErrorSerializer} to its extend_schema"
            )
            for code, body in errors.items():
                ref = body["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", f"{method.upper()} {path} {code} uses {ref}"
    assert operations >= 7


CDN_HOSTS = re.compile(r"(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|fonts\.googleapis\.com)", re.I)


def test_swagger_ui_is_served_from_local_assets() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""["']((?:https?:)?//[^"'\s]+)["']""", html)
    sidecar = [url for url in urls if "drf_spectacular_sidecar" in url]
    assert sidecar, urls
    offsite = [url for url in urls if url.startswith(("http://", "https://", "//"))]
    assert not offsite, f"docs page loads assets from other hosts: {offsite}"
    assert not CDN_HOSTS.search(html)
    asset = Client().get(sidecar[0])  # and the local copy is really served
    assert asset.status_code == 200, sidecar[0]
