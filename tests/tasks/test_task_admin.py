import pytest

from tasks.models import TaskDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    admin = make_user(display_name="Ops")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin, backend="accounts.backends.PhoneOrEmailBackend")
    return client


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
