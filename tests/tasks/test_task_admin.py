import re

import pytest
from django.contrib.messages import get_messages

from tasks.events import signing_key_for
from tasks.models import ApiKey, TaskDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    admin = make_user(display_name="Ops")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def test_api_key_secret_shown_once_and_revocable(staff_client, campaign):
    response = staff_client.post("/admin/tasks/apikey/add/", {"name": "ERP", "campaign": campaign.pk}, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in get_messages(response.wsgi_request)] or [m.message for m in response.context["messages"]]
    text = " ".join(shown)
    assert key.key_id in text
    secret = re.search(r"(?<![\w-])[A-Za-z0-9_-]{43}(?![\w-])", text).group(0)  # token_urlsafe(32)
    assert signing_key_for(secret) == key.signing_key
    assert secret not in staff_client.get(f"/admin/tasks/apikey/{key.pk}/change/").content.decode()
    staff_client.post("/admin/tasks/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_task_admin_validates_through_the_service(staff_client, campaign):
    data = {
        "campaign": campaign.pk,
        "tier": "beginner",
        "title": "T",
        "event_type": "feature_used:",
        "target_count": 1,
        "reward_points": 5,
        "window": "whole",
        "auto_reward": "on",
        "is_active": "on",
        "sort_order": 0,
    }
    response = staff_client.post("/admin/tasks/taskdefinition/add/", data)
    assert response.status_code == 200
    assert "event_type" in response.context["adminform"].form.errors
    assert not TaskDefinition.objects.exists()
    data["event_type"] = "feature_used:share"
    response = staff_client.post("/admin/tasks/taskdefinition/add/", data)
    assert response.status_code == 302
    assert TaskDefinition.objects.get().event_type == "feature_used:share"
    assert staff_client.get("/admin/tasks/taskprogress/").status_code == 200
    assert staff_client.get("/admin/tasks/ingestedevent/").status_code == 200
