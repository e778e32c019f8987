"""The one transition table (shipments/rules.py): complete, consistent with the model's CHECK constraints, and
the only place the admin learns which moves exist."""

from __future__ import annotations

from pathlib import Path

from shipments import rules
from shipments.models import Shipment
from shipments.rules import REQUIRES, TRANSITIONS, ShipmentStatus

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "admin" / "shipments" / "shipment"


def test_the_table_names_only_statuses_and_timestamp_fields():
    statuses = set(ShipmentStatus.values)
    assert set(REQUIRES) == statuses
    assert set(TRANSITIONS) == statuses - {ShipmentStatus.AWAITING_ADDRESS}  # nothing moves back to waiting
    fields = {f.name for f in Shipment._meta.get_fields()}
    for to, transition in TRANSITIONS.items():
        assert set(transition.sources) <= statuses, to
        assert transition.stamp in fields, to
        assert transition.stamp in REQUIRES[to], to  # a row that made the move keeps its timestamp
    for needed in REQUIRES.values():
        assert set(needed) <= fields


def test_moves_by_the_table():
    assert rules.can_move("ready", "shipped")
    assert rules.can_move("shipped", "shipped")  # correcting the tracking number
    assert not rules.can_move("awaiting_address", "shipped")
    assert not rules.can_move("expired", "ready")
    assert not rules.can_move("ready", "awaiting_address")
    assert rules.next_statuses("awaiting_address") == ["ready", "expired", "cancelled"]
    assert rules.next_statuses("ready") == ["shipped", "cancelled"]
    assert not rules.can_move("shipped", "cancelled")
    assert rules.next_statuses("shipped") == ["delivered", "returned"]
    assert rules.next_statuses("returned") == []
    assert set(rules.OPERATOR_MOVES) <= set(TRANSITIONS)


def test_every_status_that_requires_something_has_its_check_constraint():
    names = {c.name for c in Shipment._meta.constraints}
    for status, needed in REQUIRES.items():
        assert (f"shipment_{status}_complete" in names) == bool(needed), status


def test_the_admin_templates_do_not_repeat_the_transitions():
    """The shipment pages get the allowed moves from the admin (which asks rules.py); no template compares
    statuses itself."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        for status in ShipmentStatus.values:
            assert f'"{status}"' not in text, (template.name, status)
            assert f"'{status}'" not in text, (template.name, status)
