"""Provably fair draws: the whole algorithm, so members (and auditors) can recompute any draw.

1. When a wheel is created the server draws a secret `server_seed` (32 random bytes from `secrets`, kept as
   64 lowercase hex characters) and publishes `commitment = SHA-256(server_seed as ASCII)` in hex.
2. A member's n-th spin on that wheel (n = 1, 2, ...) uses the message `f"{player}:{n}"`, where `player` is the
   member's player key on that wheel: 32 random hex characters made with the member's first spin there and
   recorded on every draw (the key stands for the member, so a draw can be checked by anyone it is shown to
   without telling them who made it). Draws made before player keys existed use the member's id as `player`.
   The server computes `HMAC-SHA256(key=server_seed as ASCII, msg)` and reads the 32-byte digest as a
   big-endian integer x.
3. `total` is the sum of the weights in the draw's odds table. To map x onto [0, total) without modulo bias,
   x is accepted only if x < 2**256 - (2**256 % total); otherwise the message becomes
   `f"{player}:{n}:{attempt}"` with attempt = 1, 2, ... until one is accepted (rejection sampling; the
   chance of even one retry is below total / 2**256). The roll is x % total.
4. The odds table lists [prize_id, weight] of every slot in stock (and under the member's per-prize cap) in
   wheel order; the roll falls into the first slot whose cumulative weight exceeds it.
5. After the campaign ends the seed is revealed: SHA-256 of it must equal the commitment, and steps 2-4 must
   give the stored roll and prize for every draw. Draws are looked up by their random public reference, never by
   their id: a member sees their own draws' references (and can share them); nobody else can list them.

Only `hmac`, `hashlib` and `secrets` are used. Never `random`.

Spins themselves are computed by the database (lottery_spin() in lottery/sql/lottery_spin.sql) with the
same algorithm, HMAC built from Postgres' sha256() and the pads of `hmac_pads`; this module is the reference
that verifies them, and tests/lottery/test_fairness.py proves the two agree."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence

SPACE = 1 << 256
BLOCK = 64  # SHA-256 block size in bytes

Table = Sequence[Sequence[int]]


def seed_new() -> str:
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


@functools.lru_cache(maxsize=1024)  # a wheel's seed never changes: its pads are derived once per process
def hmac_pads(seed: str) -> tuple[bytes, bytes]:
    """The HMAC-SHA256 inner and outer padded keys of `seed` (RFC 2104), so that
    HMAC(seed, m) = SHA-256(outer + SHA-256(inner + m)). The database computes spins from these with its
    built-in sha256() (lottery/sql/lottery_hmac.sql); they are derived from the seed and kept as secret."""
    key = seed.encode("ascii")
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


Player = str | int  # a player key, or the member id of a draw made before player keys


def roll(seed: str, player: Player, spin_number: int, total: int) -> int:
    """The unbiased number in [0, total) for a player's n-th spin."""
    if total <= 0:
        raise ValueError("the odds table is empty")
    limit = SPACE - SPACE % total
    key = seed.encode("ascii")
    attempt = 0
    while True:
        message = f"{player}:{spin_number}" if attempt == 0 else f"{player}:{spin_number}:{attempt}"
        x = int.from_bytes(hmac.new(key, message.encode("ascii"), hashlib.sha256).digest(), "big")
        if x < limit:
            return x % total
        attempt += 1


def pick(table: Table, value: int) -> int:
    """The prize id of the slot `value` (in [0, total)) falls into."""
    upper = 0
    for prize_id, weight in table:
        upper += weight
        if value < upper:
            return prize_id
    raise ValueError("roll outside the odds table")


def draw(seed: str, player: Player, spin_number: int, table: Table) -> tuple[int, int]:
    """(prize id, roll) of a player's n-th spin over `table`."""
    value = roll(seed, player, spin_number, sum(weight for _prize, weight in table))
    return pick(table, value), value


def table_hash(table: Table) -> str:
    """SHA-256 of the table as compact JSON ([[id, weight], ...]): what a draw record points to."""
    canonical = json.dumps([[int(p), int(w)] for p, w in table], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def verify(*, seed: str, commitment_hex: str, player: Player, spin_number: int, table: Table) -> tuple[bool, int, int]:
    """Recompute one draw from a revealed seed: (commitment matches, prize id, roll)."""
    prize_id, value = draw(seed, player, spin_number, table)
    return hmac.compare_digest(commitment(seed), commitment_hex), prize_id, value


# The verification recipe shown on the fairness page: self-contained Python (no project imports); fill in seed,
# commitment, player, spin_number and table from the page.
# tests/lottery/test_fairness.py runs it and checks it agrees with draw() above.
VERIFY_SNIPPET = """import hashlib, hmac

def roll(seed, player, spin_number, total):
    limit = 2**256 - 2**256 % total
    attempt = 0
    while True:
        msg = f"{player}:{spin_number}" + (f":{attempt}" if attempt else "")
        x = int.from_bytes(hmac.new(seed.encode(), msg.encode(), hashlib.sha256).digest(), "big")
        if x < limit:
            return x % total
        attempt += 1

assert hashlib.sha256(seed.encode()).hexdigest() == commitment
value = roll(seed, player, spin_number, sum(w for _, w in table))
upper = 0
for prize_id, weight in table:
    upper += weight
    if value < upper:
        print("prize", prize_id, "roll", value)
        break"""
