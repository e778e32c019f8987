"""PartnerSignatureAuthentication over HTTP (POST /api/v1/events is its first user)."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from partners import services
from partners.signing import request_signature, signing_key_for

pytestmark = pytest.mark.django_db


def post(key_id: str, secret: str, body: bytes, *, timestamp: int | None = None, **headers: str):
    ts = str(int(timezone.now().timestamp()) if timestamp is None else timestamp)
    signature = request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=body)
    return APIClient().post(
        "/api/v1/events",
        body,
        content_type="application/json",
        **{"HTTP_X_API_KEY": key_id, "HTTP_X_TIMESTAMP": ts, "HTTP_X_SIGNATURE": signature, **headers},
    )


def test_a_signed_request_reaches_the_view_as_the_key_not_as_a_user(campaign):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    response = post(key.key_id, secret, b"{}")
    # authenticated: the view itself refuses the empty batch
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_batch")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_refusals_are_401_with_the_domain_code_details_and_a_challenge(campaign):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    stale = post(key.key_id, secret, b"{}", timestamp=int(timezone.now().timestamp()) - 3600)
    assert stale.status_code == 401
    assert stale["WWW-Authenticate"] == "PartnerSignature"
    error = stale.json()["error"]
    assert error["code"] == "stale_timestamp"
    assert abs(error["details"]["server_time"] - timezone.now().timestamp()) < 60
    forged = post(key.key_id, "not-the-secret", b"{}")
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "invalid_signature")
    missing = APIClient().post("/api/v1/events", b"{}", content_type="application/json")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "invalid_api_key")


def test_a_member_bearer_token_is_not_a_partner_key(member):
    access = token_issue(user=member, name="app").access
    response = APIClient().post(
        "/api/v1/events", b"{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")


def test_a_body_over_the_upload_limit_is_413_before_any_signature_check(campaign, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    response = post(key.key_id, secret, b'{"events": [' + b'{"event_id": "x"},' * 200 + b"{}]}")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large")
    key.refresh_from_db()
    assert key.last_used_at is None
