import pytest

from accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_register_returns_user_and_tokens(api):
    r = api.post(
        "/api/v1/auth/register",
        {"phone": "138 0013 8000", "password": "Sunny-days-2026", "display_name": "Li"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["user"]["phone"] == "+8613800138000"
    access = r.json()["token"]["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["display_name"] == "Li"


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"phone": "12345", "password": "Sunny-days-2026"}, "phone", "invalid_phone"),
        ({"email": "not-an-email", "password": "Sunny-days-2026"}, "email", None),
        ({"email": "weak@example.com", "password": "123"}, "password", None),
        ({"password": "Sunny-days-2026"}, "__all__", None),
    ],
)
def test_register_bad_input_creates_nothing(api, payload, field, code):
    before = User.objects.count()
    r = api.post("/api/v1/auth/register", payload, format="json")
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "validation_error"
    assert field in body["details"]
    assert User.objects.count() == before


def test_register_taken_phone_and_email(api, member):
    r = api.post(
        "/api/v1/auth/register",
        {"phone": member.phone, "email": member.email.upper(), "password": "Sunny-days-2026"},
        format="json",
    )
    assert r.status_code == 400
    details = r.json()["error"]["details"]
    assert "phone" in details
    assert "email" in details


def test_token_obtain_refresh_revoke(api, member):
    r = api.post("/api/v1/auth/token", {"username": member.email, "password": "Str0ng-pass-2026"}, format="json")
    assert r.status_code == 200, r.content
    pair = r.json()
    # Phone in a local format logs in too.
    local = member.phone.removeprefix("+86")
    by_phone = api.post("/api/v1/auth/token", {"username": local, "password": "Str0ng-pass-2026"}, format="json")
    assert by_phone.status_code == 200

    r2 = api.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert r2.status_code == 200
    new = r2.json()
    assert new["access"] != pair["access"]
    # The old pair is dead after rotation; a refresh token works only once.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get("/api/v1/me").status_code == 401
    again = api.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_token"
    # That was reuse of a rotated refresh token: its whole family is revoked, the pair issued from it too
    # (tests/accounts/test_tokens.py); the phone login is another family and lives on.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {new['access']}")
    assert api.get("/api/v1/me").status_code == 401

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {by_phone.json()['access']}")
    assert api.get("/api/v1/me").status_code == 200
    assert api.post("/api/v1/auth/token/revoke", {}, format="json").status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()


def test_wrong_password_is_401_in_error_shape(api, member):
    r = api.post("/api/v1/auth/token", {"username": member.email, "password": "nope"}, format="json")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"


def test_me_patch_cannot_change_protected_fields(member_api, member):
    r = member_api.patch(
        "/api/v1/me",
        {
            "display_name": "New",
            "is_staff": True,
            "is_superuser": True,
            "id": 999,
            "phone": "+8613900000000",
            "balance": 10**6,
            "language": "en",
        },
        format="json",
    )
    assert r.status_code == 200
    member.refresh_from_db()
    assert member.display_name == "New"
    assert member.language == "en"
    assert not member.is_staff
    assert not member.is_superuser
    assert member.pk != 999
    assert member.phone != "+8613900000000"


def test_me_patch_bad_language(member_api):
    r = member_api.patch("/api/v1/me", {"language": "klingon"}, format="json")
    assert r.status_code == 400
    assert "language" in r.json()["error"]["details"]


def test_unknown_api_route_is_json_404(api):
    r = api.get("/api/v1/no/such/thing")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "not_found"


def test_method_not_allowed_and_unauthenticated_shapes(api, member_api):
    assert api.get("/api/v1/me").json()["error"]["code"] == "not_authenticated"
    r = member_api.delete("/api/v1/me")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_address_crud_and_single_default(member_api, member):
    body = {
        "recipient": "张三",
        "phone": "13800138000",
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "detail": "科技园 1 号",
        "postal_code": "518000",
    }
    a = member_api.post("/api/v1/me/addresses", body, format="json")
    assert a.status_code == 201, a.content
    assert a.json()["is_default"] is True
    b = member_api.post("/api/v1/me/addresses", {**body, "is_default": True}, format="json").json()
    listing = member_api.get("/api/v1/me/addresses").json()
    assert [x["is_default"] for x in listing].count(True) == 1
    assert next(x for x in listing if x["is_default"])["id"] == b["id"]
    bad = member_api.post("/api/v1/me/addresses", {**body, "phone": "42", "postal_code": "12"}, format="json")
    assert bad.status_code == 400
    assert {"phone", "postal_code"} <= set(bad.json()["error"]["details"])
    assert member_api.delete(f"/api/v1/me/addresses/{b['id']}").status_code == 204
    listing = member_api.get("/api/v1/me/addresses").json()
    assert len(listing) == 1
    assert listing[0]["is_default"] is True


def test_cannot_touch_someone_elses_address(member_api, make_user):
    from accounts.services import address_save

    other = make_user()
    addr = address_save(
        user=other, data={"recipient": "x", "phone": "13800138001", "province": "p", "city": "c", "detail": "d"}
    )
    assert member_api.get(f"/api/v1/me/addresses/{addr.pk}").status_code == 404
    assert member_api.delete(f"/api/v1/me/addresses/{addr.pk}").status_code == 404
