"""The prize wheel is fair and provably so: the production draw follows the published odds (a chi-square test
that demonstrably rejects biased mappings), rejection sampling removes modulo bias, every stored draw can be
recomputed from the revealed seed, and no prize code uses the `random` module."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from lottery import fairness
from lottery.models import Draw, Prize, PrizeKind, WheelPlayer
from lottery.selectors import draw_verify, fairness_for
from lottery.services import spin_perform

from .conftest import none_prize

ROOT = Path(__file__).resolve().parents[2]
SEED = "5eed" * 16  # a fixed 64-hex-character server seed
SAMPLES = 10**6
ALPHA = 0.001
PUBLISHED = [[1, 1], [2, 10], [3, 100], [4, 889]]  # 0.1 % grand prize, 1 %, 10 %, 88.9 % "thanks for playing"


# --- The chi-square test, without scipy ------------------------------------------------------------------


def gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): the power series of P for
    x < a + 1, the continued fraction of Q (modified Lentz) otherwise (Numerical Recipes §6.2)."""
    if a <= 0 or x < 0:
        raise ValueError("gamma_q needs a > 0 and x >= 0")
    if x == 0:
        return 1.0
    log_prefactor = a * math.log(x) - x - math.lgamma(a)
    eps, tiny = 1e-15, 1e-300
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * eps:
                return max(0.0, 1.0 - total * math.exp(log_prefactor))
        raise ArithmeticError("series did not converge")
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < eps:
            return math.exp(log_prefactor) * h
    raise ArithmeticError("continued fraction did not converge")


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square with `dof` degrees of freedom."""
    return gamma_q(dof / 2, statistic / 2)


def chi2_gof(counts: Counter[int], table: Sequence[Sequence[int]]) -> tuple[float, float]:
    """(statistic, p-value) of observed prize counts against the probabilities of an odds table."""
    n = sum(counts.values())
    total = sum(w for _p, w in table)
    assert set(counts) <= {p for p, _w in table}, "a prize outside the table was drawn"
    statistic = 0.0
    for prize, weight in table:
        expected = n * weight / total
        statistic += (counts.get(prize, 0) - expected) ** 2 / expected
    return statistic, chi2_sf(statistic, len(table) - 1)


@pytest.mark.parametrize(
    ("statistic", "dof", "expected"),
    [
        (3.841458820694124, 1, 0.05),  # the textbook 5 % critical values
        (11.344866730144373, 3, 0.01),
        (16.26623619623813, 3, 0.001),
        (6.634896601021214, 1, 0.01),
        (18.307038053275146, 10, 0.05),
        (0.0, 4, 1.0),
    ],
)
def test_chi2_sf_matches_known_critical_values(statistic, dof, expected):
    assert chi2_sf(statistic, dof) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("x", [0.01, 0.5, 1.0, 2.9, 3.1, 7.0, 20.0, 60.0, 200.0, 900.0])
def test_chi2_sf_matches_closed_forms_on_both_branches(x):
    # dof 2: exp(-x/2); dof 1: erfc(sqrt(x/2)); dof 4: exp(-x/2)(1 + x/2). Small x uses the series, large x
    # the continued fraction, so both branches are checked against exact values.
    assert chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)
    assert chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9)
    assert chi2_sf(x, 4) == pytest.approx(math.exp(-x / 2) * (1 + x / 2), rel=1e-10)


# --- Odds: 10**6 production draws against the published table --------------------------------------------


def _message(i: int) -> tuple[int, int]:
    """The i-th sample: many members (ids) with many spins each."""
    return 1000 + i % 9973, 1 + i // 9973


@pytest.fixture(scope="module")
def production_counts() -> Counter[int]:
    """Prizes of 10**6 draws through lottery.fairness.draw over the published table."""
    draw = fairness.draw
    return Counter(draw(SEED, *_message(i), PUBLISHED)[0] for i in range(SAMPLES))


@pytest.mark.slow
def test_a_million_draws_follow_the_published_odds(production_counts):
    statistic, p = chi2_gof(production_counts, PUBLISHED)
    assert sum(production_counts.values()) == SAMPLES
    assert p > ALPHA, (statistic, p, production_counts)
    assert production_counts[1] > 0  # even the 0.1 % grand prize came up


@pytest.mark.slow
def test_the_same_check_rejects_odds_that_are_not_the_published_ones(production_counts):
    # An operator publishes 0.2 % for the grand prize but the draw gives 0.1 %.
    inflated = [[1, 2], [2, 10], [3, 100], [4, 888]]
    _statistic, p = chi2_gof(production_counts, inflated)
    assert p < ALPHA
    # ... or 11 % for the third prize where 10 % are given.
    _statistic, p = chi2_gof(production_counts, [[1, 1], [2, 10], [3, 110], [4, 879]])
    assert p < ALPHA


@pytest.mark.slow
def test_the_same_check_rejects_a_modulo_biased_mapping():
    """Reading only the first byte of the HMAC modulo a total that does not divide 256 favours the low values
    (256 = 42·6 + 4: values 0-3 come up 43 times in 256, values 4-5 only 42); the chi-square check catches it
    on the very same HMAC stream where the full-width reduction passes."""
    table = [[1, 1], [2, 2], [3, 3]]  # total 6
    key = SEED.encode("ascii")
    biased: Counter[int] = Counter()
    wide: Counter[int] = Counter()
    for i in range(SAMPLES):
        user_id, n = _message(i)
        digest = hmac.new(key, f"{user_id}:{n}".encode("ascii"), hashlib.sha256).digest()
        biased[fairness.pick(table, digest[0] % 6)] += 1
        wide[fairness.pick(table, int.from_bytes(digest, "big") % 6)] += 1
    _statistic, p_biased = chi2_gof(biased, table)
    _statistic, p_wide = chi2_gof(wide, table)
    assert p_biased < ALPHA, p_biased
    assert p_wide > ALPHA, p_wide


# --- Rejection sampling -------------------------------------------------------------------------------------


def _scripted_hmac(values: dict[str, int]) -> SimpleNamespace:
    """A stand-in for the `hmac` module whose digest of message m is the 32-byte big-endian encoding of
    values[m]: lets a test choose x exactly."""

    def new(_key: bytes, msg: bytes, _digestmod: object) -> SimpleNamespace:
        return SimpleNamespace(digest=lambda: values[msg.decode("ascii")].to_bytes(32, "big"))

    return SimpleNamespace(new=new, compare_digest=hmac.compare_digest)


def test_rejection_sampling_maps_a_tiny_space_uniformly(monkeypatch):
    monkeypatch.setattr(fairness, "SPACE", 2**8)
    total = 3
    limit = 2**8 - 2**8 % total
    assert limit == 255
    seen: Counter[int] = Counter()
    for x in range(limit):  # every accepted x: each value 0..2 is reached by exactly 85 of them
        monkeypatch.setattr(fairness, "hmac", _scripted_hmac({"7:1": x}))
        seen[fairness.roll(SEED, 7, 1, total)] += 1
    assert seen == {0: 85, 1: 85, 2: 85}

    # x = 255 >= limit would give 0 an 86th way in: it is rejected and attempt 1 decides.
    script = {"7:1": 255, "7:1:1": 254}
    monkeypatch.setattr(fairness, "hmac", _scripted_hmac(script))
    assert fairness.roll(SEED, 7, 1, total) == 254 % 3 == 2
    # several rejections in a row: attempts 1, 2, ... until one is below the limit
    script = {"7:1": 255, "7:1:1": 255, "7:1:2": 255, "7:1:3": 4}
    monkeypatch.setattr(fairness, "hmac", _scripted_hmac(script))
    assert fairness.roll(SEED, 7, 1, total) == 1
    # a total dividing the space needs no rejection: 255 is accepted
    monkeypatch.setattr(fairness, "hmac", _scripted_hmac({"7:1": 255}))
    assert fairness.roll(SEED, 7, 1, 4) == 3


def test_rejection_limit_of_the_real_space():
    total = 1000
    limit = fairness.SPACE - fairness.SPACE % total
    assert fairness.SPACE == 2**256
    assert limit % total == 0  # every residue has exactly limit / total preimages below the limit
    assert 0 < fairness.SPACE - limit < total
    with pytest.raises(ValueError, match="empty"):
        fairness.roll(SEED, 1, 1, 0)


def reference_draw(seed: str, player: str | int, spin_number: int, table: Sequence[Sequence[int]]) -> tuple[int, int]:
    """The algorithm exactly as lottery/fairness.py documents it, written independently of it (what an
    auditor would write): (prize id, roll)."""
    total = sum(w for _p, w in table)
    attempt = 0
    while True:
        suffix = "" if attempt == 0 else f":{attempt}"
        digest = hmac.new(seed.encode(), f"{player}:{spin_number}{suffix}".encode(), hashlib.sha256).digest()
        x = int.from_bytes(digest, "big")
        if x < 2**256 - (2**256 % total):
            break
        attempt += 1
    value = x % total
    cumulative = 0
    for prize_id, weight in table:
        cumulative += weight
        if value < cumulative:
            return prize_id, value
    raise AssertionError("unreachable")


def test_production_draw_is_the_documented_algorithm():
    tables = [PUBLISHED, [[9, 1]], [[5, 3], [6, 7]], [[11, 2**40], [12, 1], [13, 999_999]]]
    for i in range(3000):
        table = tables[i % len(tables)]
        assert fairness.draw(SEED, 10 + i % 37, 1 + i, table) == reference_draw(SEED, 10 + i % 37, 1 + i, table)
    assert fairness.commitment(SEED) == hashlib.sha256(SEED.encode("ascii")).hexdigest()
    assert fairness.table_hash([[1, 2], [3, 4]]) == hashlib.sha256(b"[[1,2],[3,4]]").hexdigest()


# --- End to end: spins through the service, verified after the campaign ends ---------------------------


@pytest.mark.django_db
def test_every_stored_draw_verifies_with_the_revealed_seed(campaign, wheel, add_prize, make_user, fund):
    phone = add_prize(PrizeKind.PHYSICAL, name="phone", weight=300, stock=3)  # sells out mid-way
    points = add_prize(PrizeKind.POINTS, name="88 points", weight=200, stock=1000, points_amount=88)
    card = add_prize(PrizeKind.MULTIPLIER_CARD, name="x2", weight=150, stock=1000, per_member_cap=1)
    none = none_prize(wheel)
    members = [make_user() for _ in range(4)]
    for m in members:
        fund(m.pk, 15 * wheel.cost_points)
    now = timezone.now()
    for round_ in range(15):
        for m in members:
            spin_perform(wheel=wheel, user_id=m.pk, request_key=f"r{round_}", now=now + timedelta(seconds=round_))

    draws = list(Draw.objects.filter(wheel=wheel).order_by("id"))
    assert len(draws) == 60
    keys = dict(WheelPlayer.objects.filter(wheel=wheel).values_list("user_id", "player_key"))
    assert len(keys) == 4
    assert len(set(keys.values())) == 4
    assert all(len(k) == 32 and set(k) <= set("0123456789abcdef") for k in keys.values())
    assert len({d.reference for d in draws}) == 60
    phone.refresh_from_db()
    assert phone.stock_remaining == 0
    tables = {json.dumps(d.table) for d in draws}
    assert len(tables) >= 3, tables  # phone sold out; the card dropped out for members who hold one
    last_phone_win = max(d.pk for d in draws if d.prize_id == phone.pk)
    assert all(phone.pk not in dict(d.table) for d in draws if d.pk > last_phone_win)
    assert any(phone.pk in dict(d.table) for d in draws)
    wheel_order = list(Prize.objects.filter(wheel=wheel).order_by("sort_order", "id"))
    weights = {p.pk: p.weight for p in wheel_order}
    for d in draws:
        slots = dict(d.table)
        assert [p for p, _w in d.table] == [p.pk for p in wheel_order if p.pk in slots]  # in wheel order
        assert all(weights[p] == w for p, w in d.table)
        assert {points.pk, none.pk} <= set(slots)  # never sold out, no cap
        has_card = Draw.objects.filter(user_id=d.user_id, prize=card, spin_number__lt=d.spin_number).exists()
        assert (card.pk in slots) is not has_card  # the per-member cap applies to this member's table only

    # Before the end (official phase, follow-up phase) the seed stays secret.
    assert fairness_for(wheel=wheel, now=now).seed is None
    assert fairness_for(wheel=wheel, now=campaign.followup_starts_at + timedelta(hours=1)).seed is None
    assert not fairness_for(wheel=wheel, now=campaign.ends_at - timedelta(seconds=1)).revealed

    revealed = fairness_for(wheel=wheel, now=campaign.ends_at + timedelta(seconds=1))
    assert revealed.revealed
    assert revealed.seed is not None
    assert hashlib.sha256(revealed.seed.encode("ascii")).hexdigest() == revealed.commitment
    for d in draws:
        check = draw_verify(draw=d, seed=revealed.seed, commitment=revealed.commitment)
        assert check.ok, (d.pk, check)
        # the HMAC input is the member's player key on this wheel, never the member id
        assert d.player_key == keys[d.user_id]
        assert reference_draw(revealed.seed, d.player_key, d.spin_number, d.table) == (d.prize_id, d.roll)

    # The member id is not the input: recomputing with it gives other rolls.
    assert any(reference_draw(revealed.seed, d.user_id, d.spin_number, d.table)[1] != d.roll for d in draws)

    # Tampering with a stored draw is caught.
    def tampered(change: Callable[[Draw], None]) -> bool:
        copy = Draw.objects.get(pk=draws[0].pk)
        change(copy)
        return draw_verify(draw=copy, seed=revealed.seed, commitment=revealed.commitment).ok

    total = sum(w for _p, w in draws[0].table)

    def other_roll(d: Draw) -> None:
        d.roll = (d.roll + 1) % total

    def other_prize(d: Draw) -> None:
        d.prize_id = next(p for p in (phone.pk, points.pk, card.pk, none.pk) if p != d.prize_id)

    def other_table(d: Draw) -> None:
        d.table = [[p, w * 2] for p, w in d.table]

    assert tampered(lambda d: None)
    assert not tampered(other_roll)
    assert not tampered(other_prize)
    assert not tampered(other_table)  # the stored hash no longer matches
    Draw.objects.filter(pk=draws[1].pk).update(roll=(draws[1].roll + 1) % sum(w for _p, w in draws[1].table))
    stored = Draw.objects.get(pk=draws[1].pk)
    assert not draw_verify(draw=stored, seed=revealed.seed, commitment=revealed.commitment).roll_ok
    wrong_seed = draw_verify(draw=draws[0], seed="0" * 64, commitment=revealed.commitment)
    assert not wrong_seed.commitment_ok
    assert not wrong_seed.ok


# --- No `random` in prize code ----------------------------------------------------------------------------

FORBIDDEN = {"random", "numpy.random"}


def forbidden_imports(source: str) -> list[str]:
    """Imports of the `random` module (or numpy's) in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in FORBIDDEN or a.name.startswith("random.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in FORBIDDEN or node.module.startswith("random."):
                found.append(node.module)
            elif node.module == "numpy":
                found += [f"numpy.{a.name}" for a in node.names if a.name == "random"]
        elif isinstance(node, ast.Call) and _dynamic_import_of(node) in FORBIDDEN:
            found.append(str(_dynamic_import_of(node)))
    return found


def _dynamic_import_of(call: ast.Call) -> object:
    """The constant module name of __import__("x") / importlib.import_module("x"), else None."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name in {"__import__", "import_module"} and call.args and isinstance(call.args[0], ast.Constant):
        return call.args[0].value
    return None


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_import_check_finds_random():
    assert forbidden_imports("import random") == ["random"]
    assert forbidden_imports("from random import choice") == ["random"]
    assert forbidden_imports("import numpy.random as npr") == ["numpy.random"]
    assert forbidden_imports("from numpy import random") == ["numpy.random"]
    assert forbidden_imports("def f():\n    import random\n    return random.random()") == ["random"]
    assert forbidden_imports("import importlib\nimportlib.import_module('random')") == ["random"]
    assert forbidden_imports("__import__('numpy.random')") == ["numpy.random"]
    assert forbidden_imports("import secrets, hmac\nfrom os import urandom\nx = secrets.randbelow(3)") == []


def test_no_prize_code_imports_random():
    files = [*sorted((ROOT / "lottery").rglob("*.py")), ROOT / "mall" / "codes.py", ROOT / "mall" / "orders.py"]
    assert len(files) > 5
    offenders = {
        str(f.relative_to(ROOT)): found for f in files if (found := forbidden_imports(f.read_text(encoding="utf-8")))
    }
    assert not offenders
    # Randomness that decides prizes and codes comes from `secrets` (seeds, voucher codes) and `hmac` (draws).
    assert {"secrets", "hmac", "hashlib"} <= _imports((ROOT / "lottery" / "fairness.py").read_text(encoding="utf-8"))
    assert "secrets" in _imports((ROOT / "lottery" / "services.py").read_text(encoding="utf-8"))
    assert len(fairness.seed_new()) == 64
    assert fairness.seed_new() != fairness.seed_new()


# --- The database computes spins: its roll must be the documented one, bit for bit ------------------------


def sql_roll(cursor, seed: str, player: str, spin_number: int, total: int) -> int:
    ipad, opad = fairness.hmac_pads(seed)
    cursor.execute("SELECT lottery_roll(%s, %s, %s, %s, %s)", [ipad, opad, player, spin_number, total])
    return cursor.fetchone()[0]


def test_hmac_pads_give_the_standard_hmac():
    for seed in (SEED, "ab", "x" * 100):
        ipad, opad = fairness.hmac_pads(seed)
        for message in (b"1:1", b"42:7:3", b""):
            ours = hashlib.sha256(opad + hashlib.sha256(ipad + message).digest()).digest()
            assert ours == hmac.new(seed.encode(), message, hashlib.sha256).digest()


@pytest.mark.django_db
def test_sql_roll_equals_the_python_roll():
    from django.db import connection

    totals = [1, 2, 3, 7, 100, 1000, 2**31 - 1, 10**12 + 39]
    with connection.cursor() as cursor:
        for n in range(600):
            seed = hashlib.sha256(str(n).encode()).hexdigest()
            # player keys (32 hex) and, for draws made before them, member ids
            player = hashlib.md5(seed.encode()).hexdigest() if n % 2 else str(1 + n * 7919)  # noqa: S324
            spin_number, total = 1 + n % 50, totals[n % len(totals)]
            assert sql_roll(cursor, seed, player, spin_number, total) == fairness.roll(
                seed, player, spin_number, total
            ), (seed, player, spin_number, total)


@pytest.mark.django_db
def test_sql_rejects_exactly_the_biased_top_of_the_space():
    from django.db import connection

    top = bytes([0xFF] * 32)  # x = 2**256 - 1
    below = bytes([0xFF] * 31 + [0xFE])  # x = 2**256 - 2
    with connection.cursor() as cursor:
        for total in (3, 7, 10**12 + 39):
            limit = fairness.SPACE - fairness.SPACE % total
            for digest in (top, below, bytes(32)):
                x = int.from_bytes(digest, "big")
                expected = -1 if x >= limit else x % total
                cursor.execute("SELECT lottery_accept(%s, %s)", [digest, total])
                assert cursor.fetchone()[0] == expected, (total, digest.hex())
    assert fairness.SPACE % 3 == 1  # so for total 3 the top value is rejected and the one below accepted


def test_the_recipe_shown_to_members_gives_the_production_draw(capsys):
    """The Python snippet on the fairness page is what members run: it must agree with fairness.draw."""
    table = [[11, 3], [12, 40], [13, 957]]
    for player, spin_number in [("0f" * 16, 1), ("9a3c" * 8, 7), (42, 7), (99999, 123)]:  # keys, and old member ids
        expected_prize, expected_roll = fairness.draw(SEED, player, spin_number, table)
        scope = {
            "seed": SEED,
            "commitment": fairness.commitment(SEED),
            "player": player,
            "spin_number": spin_number,
            "table": table,
        }
        exec(fairness.VERIFY_SNIPPET, scope)  # noqa: S102 - our own constant, run as a member would
        assert capsys.readouterr().out.strip() == f"prize {expected_prize} roll {expected_roll}"
