"""tasks 0004-0006 move partner API keys from tasks.ApiKey to partners.ApiKey: same ids and key ids, the
campaign becomes the default campaign, revoked keys stay revoked, events keep their key and get its campaign."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from campaigns.models import Campaign
from partners.models import ApiKey
from partners.signing import signing_key_for
from tasks.models import IngestedEvent

BEFORE = [("tasks", "0003_event_counted_sql")]
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REVOKED = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_keys_move_with_their_ids_revocations_and_events(campaign, member):
    operator = User.objects.create(email="ops@example.com")
    try:
        old_apps = _migrate(BEFORE)
        old_key = old_apps.get_model("tasks", "ApiKey")
        old_event = old_apps.get_model("tasks", "IngestedEvent")
        live = old_key.objects.create(
            pk=41,
            name="ERP",
            campaign_id=campaign.pk,
            key_id="pk_live",
            signing_key=signing_key_for("s1"),
            created_by_id=operator.pk,
            last_used_at=T0,
        )
        revoked = old_key.objects.create(
            pk=42, name="POS", campaign_id=campaign.pk, key_id="pk_gone", signing_key="x" * 64, revoked_at=REVOKED
        )
        old_key.objects.filter(pk__in=[41, 42]).update(created_at=T0)
        for n, key in enumerate((live, live, revoked)):
            old_event.objects.create(
                api_key_id=key.pk,
                event_id=f"e{n}",
                user_id=member.pk,
                type="purchase",
                occurred_at=T0,
                received_at=T0,
            )
    finally:
        _migrate(_leaves())

    keys = {k.key_id: k for k in ApiKey.objects.order_by("pk")}
    assert set(keys) == {"pk_live", "pk_gone"}
    assert (keys["pk_live"].pk, keys["pk_gone"].pk) == (41, 42)
    assert keys["pk_live"].signing_key == signing_key_for("s1")
    assert keys["pk_live"].default_campaign_id == campaign.pk
    assert keys["pk_live"].created_by_id == operator.pk
    assert (keys["pk_live"].created_at, keys["pk_live"].last_used_at, keys["pk_live"].revoked_at) == (T0, T0, None)
    assert keys["pk_gone"].revoked_at == REVOKED
    assert sorted(IngestedEvent.objects.values_list("event_id", "api_key_id", "campaign_id")) == [
        ("e0", 41, campaign.pk),
        ("e1", 41, campaign.pk),
        ("e2", 42, campaign.pk),
    ]
    # the id sequence moved past the copied ids
    fresh = ApiKey.objects.create(name="new", key_id="pk_new", signing_key="y" * 64)
    assert fresh.pk > 42
    assert Campaign.objects.filter(pk=campaign.pk).exists()
