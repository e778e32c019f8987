"""The hourly expiry job: what it expires, it returns the count of; run again, it does nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shipments import jobs
from shipments.models import Shipment

pytestmark = pytest.mark.django_db


def test_the_job_expires_what_is_overdue_once(make_shipment, hooks):
    overdue = make_shipment(ready=False, deadline=timezone.now() - timedelta(minutes=5))
    fresh = make_shipment(ready=False, deadline=timezone.now() + timedelta(days=1))
    assert jobs.expire.apply().get() == 1
    assert Shipment.objects.get(pk=overdue.pk).status == "expired"
    assert Shipment.objects.get(pk=fresh.pk).status == "awaiting_address"
    assert [pk for _kind, pk, _now in hooks.calls] == [overdue.pk]
    assert jobs.expire.apply().get() == 0
