"""Partner API keys and the request signature: issuing, revoking, verifying (time injected)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from campaigns.services import campaign_save
from partners import services
from partners.errors import InvalidApiKey, InvalidSignature, StaleTimestamp
from partners.models import ApiKey
from partners.selectors import api_key_campaign_ids
from partners.signing import request_signature, signature_matches, signing_key_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


def signed(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    ts = str(int(at.timestamp()))
    return {
        "timestamp": ts,
        "signature": request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=body),
    }


def test_the_secret_is_shown_once_and_only_its_derived_signing_key_is_stored(campaign):
    key, secret = services.api_key_create(name=" ERP ", default_campaign=campaign)
    key.refresh_from_db()
    assert key.name == "ERP"
    assert key.key_id.startswith("pk_")
    assert secret not in {key.signing_key, key.key_id, key.name}
    assert key.signing_key == signing_key_for(secret)
    with pytest.raises(ValidationError, match="name"):
        services.api_key_create(name="  ")


def test_verify_accepts_a_fresh_signature_and_records_the_use(campaign):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    body = b'{"events": []}'
    verified = services.api_key_verify(key_id=key.key_id, body=body, now=NOW, **signed(secret, body, NOW))
    assert verified.pk == key.pk
    assert verified.default_campaign == campaign
    key.refresh_from_db()
    assert key.last_used_at == NOW
    # upper-case hex and surrounding blanks are the same signature
    sig = signed(secret, body, NOW)
    assert signature_matches(
        signing_key=key.signing_key, timestamp=sig["timestamp"], body=body, signature=f" {sig['signature'].upper()} "
    )


@pytest.mark.parametrize("skew", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_a_timestamp_more_than_five_minutes_off_is_stale_either_way(campaign, skew):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    with pytest.raises(StaleTimestamp) as caught:
        services.api_key_verify(key_id=key.key_id, body=b"{}", now=NOW, **signed(secret, b"{}", NOW + skew))
    assert caught.value.details == {"server_time": int(NOW.timestamp())}
    # 300 seconds is still fine
    edge = NOW + (timedelta(seconds=300) if skew > timedelta(0) else timedelta(seconds=-300))
    assert services.api_key_verify(key_id=key.key_id, body=b"{}", now=NOW, **signed(secret, b"{}", edge))


def test_a_signature_over_another_body_or_with_another_secret_fails(campaign):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    _other, other_secret = services.api_key_create(name="POS", default_campaign=campaign)
    body = b'{"a":1}'
    wrong = [
        signed(secret, b"{}", NOW)["signature"],  # another body
        signed(other_secret, body, NOW)["signature"],  # another key's secret
        "",
        "zz" * 32,
    ]
    for signature in wrong:
        with pytest.raises(InvalidSignature):
            services.api_key_verify(
                key_id=key.key_id, timestamp=str(int(NOW.timestamp())), signature=signature, body=body, now=NOW
            )
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


@pytest.mark.parametrize("key_id", ["", "pk_nope", "pk_\x00", "x" * 41, "ключ"])
def test_unknown_or_malformed_key_ids_are_invalid(campaign, key_id):
    with pytest.raises(InvalidApiKey):
        services.api_key_verify(key_id=key_id, timestamp="1", signature="", body=b"", now=NOW)


def test_revoking_is_idempotent_and_a_revoked_key_no_longer_verifies(campaign):
    key, secret = services.api_key_create(name="ERP", default_campaign=campaign)
    assert services.api_key_revoke(api_key=key, now=NOW) is True
    assert services.api_key_revoke(api_key=key, now=NOW + timedelta(days=1)) is False
    key.refresh_from_db()
    assert key.revoked_at == NOW  # the first revocation stands
    with pytest.raises(InvalidApiKey):
        services.api_key_verify(key_id=key.key_id, body=b"{}", now=NOW, **signed(secret, b"{}", NOW))


def test_a_key_may_report_for_its_default_campaign_and_the_ones_it_lists(campaign):
    other = campaign_save(
        data={
            "name": "Spring",
            "slug": "spring",
            "rules": "-",
            "warmup_starts_at": campaign.warmup_starts_at,
            "official_starts_at": campaign.official_starts_at,
            "followup_starts_at": campaign.followup_starts_at,
            "ends_at": campaign.ends_at,
            "expiry_rule": "never",
        }
    )
    key, _secret = services.api_key_create(name="ERP", default_campaign=campaign)
    assert api_key_campaign_ids(api_key=key) == {campaign.pk}
    services.api_key_update(api_key=key, name="ERP 2", campaigns=[other])
    assert api_key_campaign_ids(api_key=key) == {campaign.pk, other.pk}
    assert ApiKey.objects.get(pk=key.pk).name == "ERP 2"
    roaming, _secret = services.api_key_create(name="CRM", campaigns=[other])
    assert api_key_campaign_ids(api_key=roaming) == {other.pk}
