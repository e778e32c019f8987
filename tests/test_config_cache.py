"""config/config_cache.py: configuration read once per process while the version in Redis stays the same."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from campaigns.builders import campaign_live
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug_cached
from config import config_cache

pytestmark = pytest.mark.django_db


def test_a_cached_campaign_costs_no_query_until_it_changes(django_assert_num_queries):
    now = timezone.now()
    campaign = campaign_live(now=now)
    with django_assert_num_queries(1):
        assert campaign_by_slug_cached(slug=campaign.slug, now=now).pk == campaign.pk
    with django_assert_num_queries(0):
        assert campaign_by_slug_cached(slug=campaign.slug, now=now).name == campaign.name
    campaign.name = "Renamed"
    campaign.save()  # post_save bumps the version
    with django_assert_num_queries(1):
        assert campaign_by_slug_cached(slug=campaign.slug, now=now).name == "Renamed"


def test_the_visibility_rule_is_applied_to_the_cached_campaign():
    now = timezone.now()
    campaign = campaign_live(now=now)
    campaign_by_slug_cached(slug=campaign.slug, now=now)
    with pytest.raises(CampaignNotFound):
        campaign_by_slug_cached(slug=campaign.slug, now=campaign.warmup_starts_at - timezone.timedelta(seconds=1))
    with pytest.raises(CampaignNotFound):
        campaign_by_slug_cached(slug="no-such-campaign", now=now)


def test_a_cleared_cache_never_serves_entries_of_an_older_version(django_assert_num_queries, monkeypatch):
    now = timezone.now()
    campaign = campaign_live(now=now)
    campaign_by_slug_cached(slug=campaign.slug, now=now)
    cache.clear()  # Redis restarted: the version starts again at a random number
    Campaign.objects.filter(pk=campaign.pk).update(name="Changed behind the cache")
    assert campaign_by_slug_cached(slug=campaign.slug, now=now).name == campaign.name  # within the check interval
    later = config_cache.time.monotonic() + config_cache.VERSION_CHECK_SECONDS
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: later)
    with django_assert_num_queries(1):
        assert campaign_by_slug_cached(slug=campaign.slug, now=now).name == "Changed behind the cache"


def test_a_process_asks_redis_for_the_version_at_most_once_a_second(monkeypatch):
    now = timezone.now()
    campaign = campaign_live(now=now)
    campaign_by_slug_cached(slug=campaign.slug, now=now)
    reads = []
    real_get = config_cache.cache.get
    monkeypatch.setattr(config_cache.cache, "get", lambda *a, **k: reads.append(a) or real_get(*a, **k))
    for _ in range(5):
        campaign_by_slug_cached(slug=campaign.slug, now=now)
    assert reads == []
    later = config_cache.time.monotonic() + config_cache.VERSION_CHECK_SECONDS
    monkeypatch.setattr(config_cache.time, "monotonic", lambda: later)
    campaign_by_slug_cached(slug=campaign.slug, now=now)
    assert len(reads) == 1


def test_config_changed_makes_every_reader_reload(django_assert_num_queries):
    now = timezone.now()
    campaign = campaign_live(now=now)
    campaign_by_slug_cached(slug=campaign.slug, now=now)
    Campaign.objects.filter(pk=campaign.pk).update(name="By update()")  # no signal: a service must say so
    assert campaign_by_slug_cached(slug=campaign.slug, now=now).name != "By update()"
    config_cache.config_changed()
    assert campaign_by_slug_cached(slug=campaign.slug, now=now).name == "By update()"


def test_with_redis_down_every_read_goes_to_the_database(monkeypatch, django_assert_num_queries):
    now = timezone.now()
    campaign = campaign_live(now=now)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(config_cache.cache, "get", down)
    monkeypatch.setattr(config_cache.cache, "incr", down)
    for _ in range(2):
        with django_assert_num_queries(1):
            assert campaign_by_slug_cached(slug=campaign.slug, now=now).pk == campaign.pk
    config_cache.config_changed()  # a bump that cannot reach Redis drops this process's entries; never raises
