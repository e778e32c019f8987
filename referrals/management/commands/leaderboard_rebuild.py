"""`manage.py leaderboard_rebuild [slug ...] [--all]`: rebuild invite leaderboards in Redis from Postgres (after a
Redis flush, a restore, or to check the mirror). Without a slug: every campaign with a referral program that is not
over yet; `--all`: every campaign with one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from campaigns.models import Campaign
from referrals.leaderboard import leaderboard_rebuild
from referrals.models import Program


class Command(BaseCommand):
    help = "Rebuild invite leaderboards (Redis sorted sets) from Postgres."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="campaign slugs (default: every campaign not over yet)")
        parser.add_argument("--all", action="store_true", help="every campaign with a referral program")

    def handle(self, *args: Any, **options: Any) -> None:
        programs = Program.objects.select_related("campaign")
        if options["slugs"]:
            campaigns = list(Campaign.objects.filter(slug__in=options["slugs"]))
            unknown = set(options["slugs"]) - {c.slug for c in campaigns}
            if unknown:
                raise CommandError(f"unknown campaign: {', '.join(sorted(unknown))}")
        elif options["all"]:
            campaigns = [p.campaign for p in programs]
        else:
            campaigns = [p.campaign for p in programs.filter(campaign__ends_at__gt=timezone.now())]
        for campaign in campaigns:
            members = leaderboard_rebuild(campaign_id=campaign.pk)
            self.stdout.write(f"{campaign.slug}: {members} members")
