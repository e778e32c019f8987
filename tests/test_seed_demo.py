import pytest
from django.core.management import call_command

from accounts.models import User
from points import selectors, services
from points.models import Transfer


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "member@demo.local" in out
    assert "demo-member-2026" in out
    member = User.objects.get(email="member@demo.local")
    assert member.check_password("demo-member-2026")
    assert User.objects.get(email="operator@demo.local").groups.filter(name="operator").exists()
    assert Transfer.objects.count() == 4
    balance = selectors.balance_for(user_id=member.pk)
    assert (balance.spendable, balance.pending) == (460, 200)
    assert balance.expiring_soon == 0  # the 80-point lot was spent first: it expired soonest
    services.ledger_rollup()
    assert services.ledger_reconcile().ok
