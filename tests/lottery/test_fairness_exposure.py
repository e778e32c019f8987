"""Fairness without exposure (issue 10): draws are found by a random public reference, never by their sequential id;
a draw's HMAC input is the member's random player key on the wheel, so anyone given a reference can recompute the
draw once the seed is revealed without learning who made it; before the end only the member sees their draws; no
public output carries a member id; the migration gives every existing draw a reference and every player a key
while old draws stay verifiable with the member id they were computed from."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from campaigns.models import Campaign
from lottery import fairness
from lottery.errors import DrawNotFound
from lottery.models import Draw, PrizeKind, WheelPlayer
from lottery.selectors import draw_visible, fairness_report, reference_clean
from lottery.services import spin_perform

pytestmark = pytest.mark.django_db

API = "/api/v1/campaigns/carnival/wheel/fairness"
SPINS = "/api/v1/campaigns/carnival/wheel/spins"
PAGE = "/c/carnival/wheel/fairness/"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
REFUSED = (
    "No draw with this reference can be shown. Check the reference; other members' draws can be looked up once the "
    "campaign has ended."
)
PUBLIC_DRAW_KEYS = {
    "reference", "mine", "player", "spin_number", "table", "roll", "odds_hash", "odds_version", "prize_id",
    "created_at", "verification",
}  # fmt: skip


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def end_campaign(campaign: Campaign) -> None:
    """Move the campaign's schedule into the past (the seed is revealed once it has ended)."""
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        warmup_starts_at=now - timedelta(days=20),
        official_starts_at=now - timedelta(days=15),
        followup_starts_at=now - timedelta(days=5),
        ends_at=now - timedelta(hours=1),
    )


def recompute(seed: str, player: str, spin_number: int, table: list[list[int]]) -> tuple[int, int]:
    """What an outsider runs: the page's recipe, with nothing but the published values."""
    total = sum(w for _p, w in table)
    attempt = 0
    while True:
        msg = f"{player}:{spin_number}" + (f":{attempt}" if attempt else "")
        x = int.from_bytes(hmac.new(seed.encode(), msg.encode(), hashlib.sha256).digest(), "big")
        if x < 2**256 - 2**256 % total:
            break
        attempt += 1
    value, upper = x % total, 0
    for prize_id, weight in table:
        upper += weight
        if value < upper:
            return prize_id, value
    raise AssertionError("unreachable")


def make_legacy(draw: Draw) -> Draw:
    """Turn a draw into one made before player keys: blank key, roll and prize computed from the member id."""
    prize_id, roll = fairness.draw(draw.wheel.server_seed, draw.user_id, draw.spin_number, draw.table)
    Draw.objects.filter(pk=draw.pk).update(player_key="", roll=roll, prize_id=prize_id)
    return Draw.objects.get(pk=draw.pk)


@pytest.fixture
def two_members(make_user, fund):
    owner, other = make_user(), make_user()
    fund(owner.pk, 500)
    fund(other.pk, 500)
    return owner, other


def page_client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- References and player keys ------------------------------------------------------------------------


def test_spins_get_random_references_and_use_the_members_player_key(wheel, two_members):
    owner, other = two_members
    now = timezone.now()
    mine = [spin_perform(wheel=wheel, user_id=owner.pk, request_key=f"o{i}", now=now).draw for i in range(3)]
    theirs = spin_perform(wheel=wheel, user_id=other.pk, request_key="x", now=now).draw
    keys = dict(WheelPlayer.objects.filter(wheel=wheel).values_list("user_id", "player_key"))
    assert HEX32.match(keys[owner.pk])
    assert HEX32.match(keys[other.pk])
    assert keys[owner.pk] != keys[other.pk]
    assert [d.player_key for d in mine] == [keys[owner.pk]] * 3  # one key per member and wheel
    assert theirs.player_key == keys[other.pk]
    references = [d.reference for d in [*mine, theirs]]
    assert all(HEX32.match(r) for r in references)
    assert len(set(references)) == 4
    # What the service hands back equals what was stored, and the roll is the one of the key, not of the member id.
    for d in mine:
        stored = Draw.objects.get(pk=d.pk)
        assert (stored.reference, stored.player_key) == (d.reference, d.player_key)
        assert recompute(wheel.server_seed, d.player_key, d.spin_number, d.table) == (d.prize_id, d.roll)
    # A replay returns the same reference.
    again = spin_perform(wheel=wheel, user_id=owner.pk, request_key="o0", now=now)
    assert again.replayed
    assert again.draw.reference == mine[0].reference


def test_reference_clean():
    key = "ab" * 16
    assert reference_clean(key) == key
    assert reference_clean(f"  {key.upper()} ") == key
    for bad in ("", None, "123", key[:-1], key + "0", "zz" * 16, "ab" * 15 + "a\u0661"):
        assert reference_clean(bad) is None, bad


# --- Who sees what, and when ----------------------------------------------------------------------------


def test_before_the_end_only_the_member_sees_their_draw(wheel, campaign, two_members):
    owner, other = two_members
    now = timezone.now()
    draw = spin_perform(wheel=wheel, user_id=owner.pk, request_key="a", now=now).draw
    seen = draw_visible(wheel=wheel, reference=draw.reference, user_id=owner.pk, now=now)
    assert seen.pk == draw.pk
    for viewer in (other.pk, None):
        with pytest.raises(DrawNotFound):
            draw_visible(wheel=wheel, reference=draw.reference, user_id=viewer, now=now)
    with pytest.raises(DrawNotFound):  # the sequential id is no way in
        draw_visible(wheel=wheel, reference=str(draw.pk), user_id=owner.pk, now=now)
    # Once the campaign has ended (injected time), anyone with the reference sees it.
    after = campaign.ends_at + timedelta(seconds=1)
    assert draw_visible(wheel=wheel, reference=draw.reference, user_id=None, now=after).pk == draw.pk
    report = fairness_report(wheel=wheel, reference=draw.reference, user_id=other.pk, now=after)
    assert (report.mine, report.player) == (False, draw.player_key)
    assert report.check is not None
    assert report.check.ok
    mine = fairness_report(wheel=wheel, reference=draw.reference, user_id=owner.pk, now=now)
    assert (mine.mine, mine.player, mine.check) == (True, draw.player_key, None)
    assert mine.my_player_key == draw.player_key
    assert [d.reference for d in mine.my_draws or []] == [draw.reference]


def test_api_before_the_end(wheel, two_members, api):
    owner, other = two_members
    owner_api = api_client(owner)
    spin = owner_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="k1")
    assert spin.status_code == 201, spin.content
    reference = spin.json()["reference"]
    assert HEX32.match(reference)
    draw = Draw.objects.get(reference=reference)

    # anonymous and another member: the same 404 as a reference that does not exist
    missing = api.get(API, {"draw": "0" * 32})
    assert missing.status_code == 404
    for client in (api, api_client(other)):
        response = client.get(API, {"draw": reference})
        assert response.status_code == 404
        assert response.json() == missing.json()
        assert response.json()["error"]["code"] == "draw_not_found"
    # sequential ids find nothing, not even the owner's own draw
    assert owner_api.get(API, {"draw": draw.pk}).status_code == 404
    # too long to be anything: the error shape's 400
    assert api.get(API, {"draw": "a" * 65}).json()["error"]["code"] == "validation_error"

    body = owner_api.get(API, {"draw": reference.upper()}).json()
    assert set(body["draw"]) == PUBLIC_DRAW_KEYS
    assert body["draw"]["mine"] is True
    assert body["draw"]["player"] == draw.player_key
    assert body["draw"]["created_at"] is not None
    assert body["draw"]["verification"] is None  # the seed is still secret
    assert body["server_seed"] is None
    assert body["my_player_key"] == draw.player_key
    assert [(d["id"], d["reference"], d["player"]) for d in body["my_draws"]] == [(draw.pk, reference, draw.player_key)]
    anonymous = api.get(API).json()
    assert (anonymous["my_draws"], anonymous["my_player_key"], anonymous["draw"]) == (None, None, None)


def test_api_after_the_end_lets_anyone_verify_without_naming_the_member(wheel, campaign, two_members, api):
    owner, _other = two_members
    draws = [spin_perform(wheel=wheel, user_id=owner.pk, request_key=f"r{i}").draw for i in range(2)]
    end_campaign(campaign)
    for draw in draws:
        response = api.get(API, {"draw": draw.reference})
        assert response.status_code == 200, response.content
        body = response.json()
        public = body["draw"]
        assert set(public) == PUBLIC_DRAW_KEYS  # no member id, no user, no draw id
        assert public["mine"] is False
        assert public["created_at"] is None
        assert public["player"] == draw.player_key != str(owner.pk)
        assert public["verification"]["ok"] is True
        # An outsider recomputes it from the published values alone.
        seed = body["server_seed"]
        assert hashlib.sha256(seed.encode()).hexdigest() == body["seed_commitment"]
        assert recompute(seed, public["player"], public["spin_number"], public["table"]) == (
            public["prize_id"],
            public["roll"],
        )
    # A tampered record fails the check.
    Draw.objects.filter(pk=draws[0].pk).update(roll=(draws[0].roll + 1) % 100)
    tampered = api.get(API, {"draw": draws[0].reference}).json()["draw"]["verification"]
    assert (tampered["roll_ok"], tampered["ok"]) == (False, False)
    # Still no listing by id.
    assert api.get(API, {"draw": draws[1].pk}).status_code == 404


def test_draws_made_before_player_keys_verify_and_hide_the_member_id(wheel, campaign, two_members, api):
    owner, _other = two_members
    draw = make_legacy(spin_perform(wheel=wheel, user_id=owner.pk, request_key="old").draw)
    end_campaign(campaign)
    public = api.get(API, {"draw": draw.reference}).json()["draw"]
    assert public["player"] is None  # its input is the member id: withheld from everyone but the member
    assert public["verification"]["ok"] is True
    own = api_client(owner).get(API, {"draw": draw.reference}).json()
    assert own["draw"]["player"] == str(owner.pk)
    assert own["my_draws"][0]["player"] == str(owner.pk)
    assert recompute(wheel.server_seed, own["draw"]["player"], draw.spin_number, draw.table) == (
        draw.prize_id,
        draw.roll,
    )
    html = Client().get(PAGE, {"draw": draw.reference}).content.decode()
    assert 'data-testid="player-withheld"' in html
    assert 'data-testid="draw-player"' not in html
    assert 'data-testid="verification" data-ok="1"' in html


# --- The page -------------------------------------------------------------------------------------------


def test_page_before_the_end(wheel, two_members):
    owner, other = two_members
    draw = spin_perform(wheel=wheel, user_id=owner.pk, request_key="p").draw
    mine = page_client(owner).get(PAGE).content.decode()
    assert re.findall(r'href="\?draw=([0-9a-f]{32})#check"', mine) == [draw.reference]
    assert f'data-testid="my-player-key">{draw.player_key}<' in mine
    shown = page_client(owner).get(PAGE, {"draw": draw.reference}).content.decode()
    assert f'data-testid="draw-reference">{draw.reference}<' in shown
    assert f'data-testid="draw-player">{draw.player_key}<' in shown
    assert 'data-testid="verify-later"' in shown
    assert f'data-testid="draw-roll">{draw.roll}<' in shown
    unknown = Client().get(PAGE, {"draw": "f" * 32})
    refused = unknown.context["form"].errors["draw"]
    assert refused == [t("zh-hans", REFUSED)]
    assert refused[0] in unknown.content.decode()
    for client in (Client(), page_client(other)):
        response = client.get(PAGE, {"draw": draw.reference})
        html = response.content.decode()
        assert 'data-testid="draw-details"' not in html
        assert response.context["form"].errors["draw"] == refused  # the same as a reference that does not exist
        assert draw.player_key not in html
    assert Client().get(PAGE, {"draw": draw.pk}).context["form"].errors["draw"] == refused
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE, {"draw": draw.reference}).content.decode()
    assert REFUSED.replace("'", "&#x27;") in english


def test_page_after_the_end_verifies_for_anyone(wheel, campaign, two_members, add_prize):
    owner, other = two_members
    add_prize(PrizeKind.POINTS, name="8 points", weight=100, stock=100, points_amount=8)
    draw = spin_perform(wheel=wheel, user_id=owner.pk, request_key="p").draw
    end_campaign(campaign)
    html = page_client(other).get(PAGE, {"draw": draw.reference}).content.decode()
    assert f'data-testid="seed">{wheel.server_seed}<' in html
    assert f'data-testid="draw-player">{draw.player_key}<' in html
    assert 'data-testid="verification" data-ok="1"' in html
    assert 'class="verdict ok"' in html
    assert draw.created_at.strftime("%Y-%m-%d %H:%M:%S") not in html  # only the member sees when
    assert 'data-testid="my-draw"' not in html  # the other member has no draws here
    Draw.objects.filter(pk=draw.pk).update(roll=(draw.roll + 1) % 200)
    html = Client().get(PAGE, {"draw": draw.reference}).content.decode()
    assert 'data-testid="verification" data-ok="0"' in html
    assert 'class="verdict bad"' in html


# --- The migration -------------------------------------------------------------------------------------

BEFORE = [("lottery", "0007_spin_reason_en")]
AFTER = [("lottery", "0008_draw_reference_player_key")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationLoader(connection)
    return loader.project_state(nodes=list(loader.applied_migrations), at_end=True).apps


@pytest.mark.django_db(transaction=True)
def test_migration_gives_every_draw_a_reference_and_every_player_a_key():
    apps = _migrate(BEFORE)
    try:
        now = timezone.now().replace(microsecond=0)
        user_model = apps.get_model("accounts", "User")
        members = [user_model.objects.create(phone=f"+8613900001{n:03d}", password="!") for n in (1, 2)]
        campaign = apps.get_model("campaigns", "Campaign").objects.create(
            name="老活动", slug="old-wheel", rules="r", warmup_starts_at=now - timedelta(days=40),
            official_starts_at=now - timedelta(days=39), followup_starts_at=now - timedelta(days=2),
            ends_at=now - timedelta(days=1),
        )  # fmt: skip
        seed = "ab" * 32
        wheel = apps.get_model("lottery", "Wheel").objects.create(
            campaign=campaign, server_seed=seed, seed_commitment=fairness.commitment(seed)
        )
        prize = apps.get_model("lottery", "Prize").objects.create(wheel=wheel, kind="none", name="谢谢", weight=10)
        table = [[prize.pk, 10]]
        for member in members:
            apps.get_model("lottery", "WheelPlayer").objects.create(wheel=wheel, user=member, spins_total=2)
            for n in (1, 2):
                _prize, roll = fairness.draw(seed, member.pk, n, table)  # algorithm 1: the member id
                apps.get_model("lottery", "Draw").objects.create(
                    wheel=wheel, user=member, spin_number=n, request_key=f"k{n}", prize=prize, roll=roll,
                    table=table, odds_hash=fairness.table_hash(table), odds_version=1, cost_points=0,
                    local_date=now.date(), created_at=now,
                )  # fmt: skip
        _migrate(AFTER)
        draws = list(Draw.objects.filter(wheel_id=wheel.pk))
        assert len(draws) == 4
        assert len({d.reference for d in draws}) == 4
        assert all(HEX32.match(d.reference) for d in draws)
        assert {d.player_key for d in draws} == {""}  # old draws keep their input: the member id
        keys = list(WheelPlayer.objects.filter(wheel_id=wheel.pk).values_list("player_key", flat=True))
        assert len(set(keys)) == 2
        assert all(HEX32.match(k) for k in keys)
        # Verified by today's code, so on today's schema (later migrations add columns the code reads).
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        for d in draws:
            report = fairness_report(wheel=d.wheel, reference=d.reference, user_id=None, now=now)
            assert report.check is not None
            assert report.check.ok
            assert report.player is None
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # every app at its newest migration again
