"""Every write of member levels: evaluating a member (promotion, level rewards through the value gate, closing ended
periods), the period-end sweep, operators' floors, the ladder's levels (with the no-overlap rule) and the sweep of
members credited since the last run. Keyword-only, `now` injected (docs/adr/0010-member-levels.md).

Model of a level: a member's level is the highest rank whose thresholds their figures meet under the ladder's combine
rule, never below the operator's floor. Ladders that never downgrade count figures over the member's lifetime and a
level once reached is kept. Re-evaluating ladders count figures within the current calendar period (campaign-local):
a level earned in a period holds until that period ends; at period end the member keeps the level the ended period's
figures justify (not below the floor), recorded as a downgrade when lower."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from campaigns.services import campaign_points_grant
from levels import kinds, rules
from levels.earning import due_take
from levels.errors import LevelNotOnLadder, NoActiveLadder
from levels.models import Cause, Downgrade, Ladder, Level, LevelAward, LevelChange, MemberLevel, SweepMark
from levels.selectors import ActiveLadder, figures_in, ladder_active, window_key

logger = logging.getLogger(__name__)

MAX_PERIODS_CLOSED = 240  # periods closed in one evaluation (20 years of months): a bound, never reached in practice

_LOCK_SQL = """
INSERT INTO levels_memberlevel (user_id, ladder_id, level_id, floor_id, period_key, reached_at, updated_at)
VALUES (%s, %s, %s, NULL, %s, %s, %s)
ON CONFLICT (user_id, ladder_id) DO NOTHING
"""


def _member_row(*, user_id: int, active: ActiveLadder, key: str, now: datetime) -> MemberLevel:
    """Get or create the member's row and lock it (SELECT … FOR UPDATE): one member's evaluations, floors and
    period closes happen one at a time. A new member starts at the entry level in the current period."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [user_id, active.ladder.pk, active.levels[0].pk, key, now, now])
    return MemberLevel.objects.select_for_update().get(user_id=user_id, ladder=active.ladder)


def _change(
    *, row: MemberLevel, to: Level, cause: str, now: datetime, actor_id: int | None = None, reason: str = ""
) -> None:
    LevelChange.objects.create(
        user_id=row.user_id,
        ladder_id=row.ladder_id,
        from_level_id=row.level_id,
        to_level=to,
        cause=cause,
        actor_id=actor_id,
        reason=reason,
        at=now,
    )
    row.level, row.reached_at = to, now


def _higher(a: Level, b: Level | None) -> Level:
    return b if b is not None and b.rank > a.rank else a


def award_key(*, level_id: int, period_key: str, user_id: int) -> str:
    """The ledger key of a level's reward: once per level, period and member."""
    return f"levels.reward:{level_id}:{period_key}:{user_id}"


def _awards_pay(
    *, user_id: int, ladder: Ladder, levels: Iterable[Level], upto: Level, key: str, now: datetime
) -> list[LevelAward]:
    """Pay the reward of every level up to `upto` (the level the figures justify) not yet paid in period `key`:
    a LevelAward row (UNIQUE user, level, period) and a grant through the value gate in the same transaction."""
    due = [level for level in levels if level.rank <= upto.rank and level.reward_points > 0]
    if not due:
        return []
    paid = set(
        LevelAward.objects.filter(user_id=user_id, period_key=key, level__in=due).values_list("level_id", flat=True)
    )
    made = []
    for level in due:
        if level.pk in paid:
            continue
        award = LevelAward.objects.create(
            user_id=user_id, level=level, period_key=key, points=level.reward_points, created_at=now
        )
        posted = campaign_points_grant(
            campaign=ladder.campaign,
            user_id=user_id,
            amount=level.reward_points,
            kind=kinds.LEVEL_REWARD,
            key=award_key(level_id=level.pk, period_key=key, user_id=user_id),
            now=now,
            source=award,
            reason=f"会员等级奖励：{level.name}",
            reason_en=f"Member level reward: {level.name_en or level.name}",
        )
        award.transfer_id = posted.transfer_id
        award.save(update_fields=["transfer_id"])
        made.append(award)
    return made


def _periods_close(*, row: MemberLevel, active: ActiveLadder, key: str, now: datetime) -> None:
    """Close every period that ended since the row was last evaluated: at each end the member keeps the level that
    period's figures justify (not below the floor); lower is a downgrade, higher a promotion missed meanwhile (its
    rewards paid for that period)."""
    ladder, levels = active.ladder, active.levels
    ended = row.period_key
    if not ended or ended == key or len(ended) != len(key) or ended > key:
        return  # nothing ended, or the ladder's period kind changed: start afresh in the current period
    floor = active.by_id(row.floor_id)
    for _step in range(MAX_PERIODS_CLOSED):
        if ended >= key:
            break
        current = active.by_id(row.level_id) or levels[0]
        figures = figures_in(user_id=row.user_id, ladder=ladder, key=ended)
        justified = rules.justified(levels, figures, ladder.combine)
        _awards_pay(user_id=row.user_id, ladder=ladder, levels=levels, upto=justified, key=ended, now=now)
        kept = _higher(justified, floor)
        if kept.rank != current.rank:
            cause = Cause.DOWNGRADE if kept.rank < current.rank else Cause.PROMOTION
            _change(row=row, to=kept, cause=cause, now=now, reason=f"period {ended}")
        ended = rules.period_next(ended)


@dataclass(frozen=True)
class Evaluation:
    member: MemberLevel
    promoted: bool
    awards: list[LevelAward]


def member_level_evaluate(*, user_id: int, now: datetime) -> Evaluation | None:
    """Evaluate one member on the active ladder, under their row's lock: close the periods that ended since the last
    evaluation (re-evaluating ladders), then promote to the level the current figures justify if higher (audited),
    and pay the reward of every level the figures reach that was not paid in this period (once per level per
    period: the LevelAward UNIQUE constraint and the ledger key). Never lowers a level mid-period. None: no active
    ladder."""
    active = ladder_active()
    if active is None:
        return None
    ladder, levels = active.ladder, active.levels
    key = window_key(ladder, now)
    with transaction.atomic():
        row = _member_row(user_id=user_id, active=active, key=key, now=now)
        if ladder.downgrade == Downgrade.REEVALUATE:
            _periods_close(row=row, active=active, key=key, now=now)
        current = active.by_id(row.level_id) or levels[0]
        figures = figures_in(user_id=user_id, ladder=ladder, key=key)
        justified = rules.justified(levels, figures, ladder.combine)
        awards = _awards_pay(user_id=user_id, ladder=ladder, levels=levels, upto=justified, key=key, now=now)
        target = _higher(_higher(current, justified), active.by_id(row.floor_id))
        promoted = target.rank > current.rank
        if promoted:
            _change(row=row, to=target, cause=Cause.PROMOTION, now=now)
        if target.pk != row.level_id:  # the level left the ladder meanwhile (a stale row): back on the ladder
            row.level = target
        row.period_key, row.updated_at = key, now
        row.save(update_fields=["level", "period_key", "reached_at", "updated_at"])
    return Evaluation(member=row, promoted=promoted, awards=awards)


def levels_period_close(*, now: datetime, batch_size: int = 500) -> int:
    """Period end on a re-evaluating ladder: every member last evaluated in an earlier period gets the level the
    ended period's figures justify (member_level_evaluate, which closes the periods first). Idempotent: a second run
    finds every row in the current period and changes nothing. Returns the members evaluated."""
    active = ladder_active()
    if active is None or active.ladder.downgrade != Downgrade.REEVALUATE:
        return 0
    key = window_key(active.ladder, now)
    done = 0
    while True:
        users = list(
            MemberLevel.objects.filter(ladder=active.ladder)
            .exclude(period_key=key)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:batch_size]
        )
        if not users:
            return done
        for user_id in users:
            member_level_evaluate(user_id=user_id, now=now)
        done += len(users)


def member_level_floor_set(
    *, user_id: int, level: Level | None, actor_id: int | None, reason: str, now: datetime
) -> MemberLevel:
    """An operator's floor for a member (None clears it): the member never drops below it; a current level below it
    is raised at once. Both audited (LevelChange cause 'floor', with the actor and the reason). A floor pays no level
    reward: rewards follow the member's figures."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason."})
    active = ladder_active()
    if active is None:
        raise NoActiveLadder()
    if level is not None and active.by_id(level.pk) is None:
        raise LevelNotOnLadder()
    key = window_key(active.ladder, now)
    with transaction.atomic():
        row = _member_row(user_id=user_id, active=active, key=key, now=now)
        current = active.by_id(row.level_id) or active.levels[0]
        target = _higher(current, level)
        LevelChange.objects.create(
            user_id=user_id,
            ladder=active.ladder,
            from_level=current,
            to_level=target if target.rank > current.rank else (level or current),
            cause=Cause.FLOOR,
            actor_id=actor_id,
            reason=reason,
            at=now,
        )
        row.floor = level
        if target.rank > current.rank:
            row.level, row.reached_at = target, now
        row.updated_at = now
        row.save(update_fields=["floor", "level", "reached_at", "updated_at"])
    return row


# --- The ladder ----------------------------------------------------------------------------------------------------


def levels_validate(levels: Sequence[Any]) -> None:
    """Refuse overlapping thresholds (levels.rules.thresholds_check) with the operator's words."""
    problems = rules.thresholds_check(levels)
    if problems:
        raise ValidationError(problems)


LEVEL_FIELDS = (
    "rank",
    "name",
    "name_en",
    "badge",
    "badge_en",
    "badge_alt",
    "badge_alt_en",
    "min_points_earned",
    "min_spend",
    "min_referrals",
    "min_checkin_days",
    "reward_points",
    "discount_percent",
    "priority_support",
    "benefits",
    "benefits_en",
)


def ladder_save(*, ladder: Ladder, levels: Sequence[dict[str, Any]] | None = None) -> Ladder:
    """Save a ladder and (when given) replace its levels' settings by rank: each dict holds LEVEL_FIELDS (and `id`
    for an existing level). The levels are checked together first (no overlapping thresholds); activating a ladder
    deactivates the others in the same transaction."""
    if ladder.downgrade == Downgrade.REEVALUATE and ladder.period == "none":
        raise ValidationError({"period": "Re-evaluating needs a period."})
    if levels is not None:
        levels_validate([Level(**{f: item.get(f) for f in LEVEL_FIELDS if f in item}) for item in levels])
    with transaction.atomic():
        if ladder.active:
            Ladder.objects.filter(active=True).exclude(pk=ladder.pk).update(active=False)
        ladder.save()
        if levels is not None:
            for item in levels:
                pk = item.get("id")
                level = Level.objects.get(pk=pk, ladder=ladder) if pk else Level(ladder=ladder)
                for field in LEVEL_FIELDS:
                    if field in item:
                        setattr(level, field, item[field])
                level.save()
    return ladder


# --- The sweep -----------------------------------------------------------------------------------------------------

SWEEP_LAG = timedelta(minutes=2)  # transfers younger than this may still have lower-id neighbours committing
SWEEP_BATCH = 5000

_SWEEP_SQL = """
SELECT t.id, a.user_id, t.created_at FROM points_transfer t
  JOIN points_account a ON a.id = t.credit_id AND a.owner_type = 'member' AND a.kind = 'wallet'
 WHERE t.id > %s ORDER BY t.id LIMIT %s
"""


def levels_sweep(*, now: datetime | None = None) -> int:
    """Evaluate every member credited since the stored watermark (a ledger transfer id), so a lost after-commit hook
    (Redis or the broker down, a worker killed) is healed within a minute. The watermark advances only past transfers
    older than SWEEP_LAG, so a transaction that commits a lower id late is still seen; members of younger transfers
    are evaluated again next time (evaluation is idempotent). Returns the members evaluated."""
    now = now or timezone.now()
    if ladder_active() is None:
        return 0
    mark, _created = SweepMark.objects.get_or_create(pk=1)
    with connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL, [mark.transfer_id, SWEEP_BATCH])
        rows = cursor.fetchall()
    users: list[int] = []
    new_mark, settled = mark.transfer_id, True
    for transfer_id, user_id, created_at in rows:
        if user_id not in users:
            users.append(user_id)
        if settled and created_at <= now - SWEEP_LAG:
            new_mark = transfer_id
        else:
            settled = False
    for user_id in users:
        try:
            member_level_evaluate(user_id=user_id, now=now)
        except Exception:
            logger.exception("level evaluation of member %s failed in the sweep", user_id)
            return len(users)  # the watermark stays: the next run tries again
    if new_mark != mark.transfer_id:
        SweepMark.objects.filter(pk=1).update(transfer_id=new_mark)
    return len(users)


def levels_drain(*, now: datetime | None = None, limit: int = 500) -> int:
    """Evaluate the members queued right after their earnings committed (levels/earning.py). Each in its own
    transaction; a failure is logged and left to the sweep. Returns the members evaluated."""
    now = now or timezone.now()
    if ladder_active() is None:
        due_take(limit=limit)  # nothing to climb: drop the queue
        return 0
    done = 0
    for user_id in due_take(limit=limit):
        try:
            member_level_evaluate(user_id=user_id, now=now)
        except Exception:
            logger.exception("level evaluation of member %s failed; the sweep will retry", user_id)
            continue
        done += 1
    return done
