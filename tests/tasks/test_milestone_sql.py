"""tasks_milestone_reached (SQL, used by the check-in to record a streak job only when it can pay) and
tasks.rules.milestone_reached (Python, used by the job and the pages) give the same answer, streak by streak."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tasks.models import CheckInRule
from tasks.rules import milestone_reached

pytestmark = pytest.mark.django_db

RULES = [
    ([], False),
    ([{"day": 3, "points": 10}, {"day": 7, "points": 50}], False),
    ([{"day": 3, "points": 10}, {"day": 7, "points": 50}], True),
    ([{"day": 1, "points": 1}], True),
    ([{"day": 7, "points": 50}, {"day": 2, "points": 5}], True),  # unordered in the JSON
    ([{"day": 5, "points": 5}], False),
]


@pytest.mark.parametrize(("milestones", "cycle"), RULES)
def test_sql_and_python_agree_on_every_streak(milestones, cycle):
    rule = CheckInRule(milestones=milestones, cycle=cycle)
    streaks = list(range(1, 61))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, tasks_milestone_reached(%s::jsonb, %s, s) FROM unnest(%s::integer[]) s ORDER BY s",
            [json.dumps(milestones), cycle, streaks],
        )
        in_sql = dict(cursor.fetchall())
    in_python = {s: milestone_reached(rule, s) is not None for s in streaks}
    assert in_sql == in_python
    assert any(in_python.values()) == bool(milestones)
