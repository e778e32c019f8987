"""accounts.normalize: one set of identifier rules for registration, login, partner lookups and the manager; free
text (names, addresses) in NFKC with control characters refused; ASCII digits for phones and postal codes, through
every door (service, API, page)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Address, User
from accounts.normalize import email_normalize, identifier_normalize, phone_normalize, postal_code_normalize, text_clean
from accounts.selectors import user_by_identifier
from accounts.services import address_save, user_profile_update


@pytest.mark.parametrize("raw", ["13800000001", "+86 138-0000-0001", " 138 0000 0001 ", "+8613800000001"])
def test_phone_numbers_in_any_common_format_are_one_number(raw):
    assert phone_normalize(raw) == "+8613800000001"
    assert identifier_normalize(raw) == ("phone", "+8613800000001")


def test_invalid_phones_emails_and_blanks():
    with pytest.raises(ValidationError):
        phone_normalize("12")
    assert identifier_normalize("12") == ("phone", "12")  # unknown identifiers stay as typed
    assert identifier_normalize(" Ming@Example.COM ") == ("email", "ming@example.com")
    assert email_normalize(" Ming@Example.COM ") == "ming@example.com"
    assert email_normalize("  ") is None
    assert email_normalize(None) is None


@pytest.mark.django_db
def test_the_manager_normalises_like_registration_does():
    """`manage.py createsuperuser` goes through UserManager; it stores the same forms user_create would."""
    admin = User.objects.create_superuser(email=" Ops@Example.COM ", password="Adm1n-pass-2026", phone="138 0000 0009")
    admin.refresh_from_db()
    assert (admin.email, admin.phone) == ("ops@example.com", "+8613800000009")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.check_password("Adm1n-pass-2026")
    assert user_by_identifier(identifier="OPS@example.com") == admin
    assert user_by_identifier(identifier="+86 138 0000 0009") == admin
    with pytest.raises(ValueError, match="phone number or an email"):
        User.objects.create_user(email="  ", password="x")


# --- Names and addresses: NFKC, whitespace, control characters (issue 10) --------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  张\t三\n ", "张 三"),  # any whitespace becomes one space, ends trimmed
        ("Ｍing　Ｌi", "Ming Li"),  # full-width letters and the ideographic space: NFKC
        ("a\u200bb\ufeff\u00adc\u2060", "abc"),  # invisible characters pasted along: dropped
        ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # the zero-width joiner stays (emoji)
        ("㈱ 株式会社", "(株) 株式会社"),  # compatibility forms
        ("", ""),
        (None, ""),
    ],
)
def test_text_clean_normalises(raw, stored):
    assert text_clean(raw) == stored


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("nul\x00", "U+0000"),
        ("esc\x1b[31m", "U+001B"),
        ("del\x7f", "U+007F"),
        ("csi\x9b", "U+009B"),  # a C1 control
        ("evil\u202etxt.exe", "U+202E"),  # right-to-left override: shows "exe.txt"
        ("iso\u2066late", "U+2066"),
        ("mark\u200e", "U+200E"),
        ("tag\U000e0041", "U+E0041"),
        ("half\ud800", "U+D800"),  # a lone surrogate (JSON can carry one)
    ],
)
def test_text_clean_refuses_control_and_format_characters(raw, named):
    with pytest.raises(ValidationError) as info:
        text_clean(raw)
    assert info.value.code == "control_character"
    assert named in info.value.messages[0]


@pytest.mark.parametrize(("raw", "stored"), [("310000", "310000"), ("１２３４５６", "123456"), (" 310 000 ", "310000")])
def test_postal_codes_are_six_ascii_digits(raw, stored):
    assert postal_code_normalize(raw) == stored


@pytest.mark.parametrize("raw", ["٣١٠٠٠٠", "۳۱۰۰۰۰", "३१००००", "31000", "3100000", "31000a", "310\x00000"])
def test_other_digits_and_lengths_are_not_postal_codes(raw):
    with pytest.raises(ValidationError):
        postal_code_normalize(raw)


@pytest.mark.parametrize(
    "raw", ["１３８００１３８０００", "\u202d+86 138 0013 8000\u202c", "\u200e13800138000", "+86 (138) 0013.8000"]
)
def test_phones_full_width_and_copied_with_direction_marks_normalise(raw):
    assert phone_normalize(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["١٣٨٠٠١٣٨٠٠٠", "138OO138OOO", "138-FLOWERS1", "13800138000\x00", "138\x0b00138000x"])
def test_phones_refuse_letters_other_digits_and_controls(raw):
    with pytest.raises(ValidationError) as info:
        phone_normalize(raw)
    assert info.value.code == "invalid_phone"


def test_full_width_identifiers_are_the_same_identifiers():
    assert email_normalize("Ｍing@Ｅxample.com") == "ming@example.com"
    assert identifier_normalize("ｍing＠example.com") == ("email", "ming@example.com")
    assert identifier_normalize("１３８００１３８０００") == ("phone", "+8613800138000")


HOSTILE_ADDRESS = {
    "recipient": "王\u202e小明",
    "phone": "١٣٨٠٠١٣٨٠٠٠",
    "province": "浙江省",
    "city": "杭州\x00市",
    "district": "",
    "detail": "文三路 1 号",
    "postal_code": "٣١٠٠٠٠",
}
TYPED_ADDRESS = {
    "recipient": " 王　小明\t",
    "phone": "１３８ ００１３ ８０００",
    "province": "浙江省",
    "city": "杭州市",
    "district": "",
    "detail": "文三路\n1 号\u200b",
    "postal_code": "３１００００",
}
STORED_ADDRESS = {
    "recipient": "王 小明",
    "phone": "+8613800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "",
    "detail": "文三路 1 号",
    "postal_code": "310000",
}
REFUSED = {"recipient", "phone", "city", "postal_code"}


@pytest.mark.django_db
def test_addresses_are_normalised_and_refused_in_the_service(member):
    saved = address_save(user=member, data=TYPED_ADDRESS)
    saved.refresh_from_db()
    assert saved.address_values() == STORED_ADDRESS
    with pytest.raises(ValidationError) as info:
        address_save(user=member, data=HOSTILE_ADDRESS)
    assert set(info.value.message_dict) == REFUSED
    assert Address.objects.filter(user=member).count() == 1
    # An edit of one field is checked too, and a refused edit changes nothing.
    with pytest.raises(ValidationError):
        address_save(user=member, data={"detail": "x\x1by"}, address=saved)
    assert Address.objects.get(pk=saved.pk).detail == "文三路 1 号"


@pytest.mark.django_db
def test_addresses_are_normalised_and_refused_in_the_api(member_api, member):
    created = member_api.post("/api/v1/me/addresses", TYPED_ADDRESS, format="json")
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in STORED_ADDRESS} == STORED_ADDRESS
    # (C0/C1 controls in a JSON body are refused earlier, by the parser: tests/test_hostile_input.py; format
    # characters such as bidi isolates reach the field rules)
    hostile = {**HOSTILE_ADDRESS, "city": "杭州\u2066市"}
    refused = member_api.post("/api/v1/me/addresses", hostile, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) >= REFUSED
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_addresses_are_refused_on_the_page_with_the_field_named(member):
    client = Client()
    client.force_login(member)
    response = client.post("/accounts/addresses/new/", {**HOSTILE_ADDRESS, "recipient": "王\u202e小明"})
    assert response.status_code == 200  # the form again, with its errors
    form = response.context["form"]
    assert set(form.errors) >= REFUSED
    assert "U+202E" in form.errors["recipient"][0]
    assert not Address.objects.filter(user=member).exists()
    ok = client.post("/accounts/addresses/new/", TYPED_ADDRESS)
    assert ok.status_code == 302
    assert Address.objects.get(user=member).address_values() == STORED_ADDRESS


@pytest.mark.django_db
def test_display_names_are_normalised_and_refused(api, member):
    good = api.post(
        "/api/v1/auth/register",
        {"phone": "138 0013 8111", "password": "Sunny-days-2026", "display_name": " Ｌi\tMing "},
        format="json",
    )
    assert good.status_code == 201, good.content
    assert User.objects.get(phone="+8613800138111").display_name == "Li Ming"
    bad = api.post(
        "/api/v1/auth/register",
        {"phone": "138 0013 8112", "password": "Sunny-days-2026", "display_name": "admin\u202e"},
        format="json",
    )
    assert bad.status_code == 400
    assert "display_name" in bad.json()["error"]["details"]
    assert not User.objects.filter(phone="+8613800138112").exists()
    with pytest.raises(ValidationError) as info:
        user_profile_update(user=member, data={"display_name": "x\x00y"})
    assert "display_name" in info.value.message_dict
    member.refresh_from_db()
    assert "\x00" not in member.display_name
    assert user_profile_update(user=member, data={"display_name": "ｎew\u3000name"}).display_name == "new name"


def full_width(text: str) -> str:
    """The digits and + of `text` as a Chinese IME types them in full-width mode."""
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "+0123456789"})


# --- Sign-up and account enumeration (decision: docs/security.md) ------------------------------------------


@pytest.mark.django_db
def test_sign_up_says_already_registered_also_for_look_alike_identifiers(api, member):
    """We keep the explicit message (a member must learn to log in instead; the register limit of
    tests/test_ratelimit.py bounds how fast anyone can probe). A full-width copy of a taken phone number is the same
    number (NFKC), and a full-width email is not an email address: look-alikes cannot open a second account."""
    before = User.objects.count()
    taken = api.post(
        "/api/v1/auth/register",
        {"phone": full_width(member.phone), "password": "Sunny-days-2026"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert member.phone == "+8613900000001"
    assert taken.status_code == 400
    assert taken.json()["error"]["details"]["phone"] == ["This phone number is already registered."]
    look_alike = api.post(
        "/api/v1/auth/register", {"email": "ＭEMBER1@example.com", "password": "Sunny-days-2026"}, format="json"
    )
    assert member.email == "member1@example.com"
    assert look_alike.status_code == 400
    assert "email" in look_alike.json()["error"]["details"]
    assert User.objects.count() == before


@pytest.mark.django_db
def test_login_does_not_tell_unknown_accounts_from_wrong_passwords(api, member):
    unknown = api.post(
        "/api/v1/auth/token", {"username": "nobody@example.com", "password": "x-Wrong-2026"}, format="json"
    )
    wrong = api.post("/api/v1/auth/token", {"username": member.email, "password": "x-Wrong-2026"}, format="json")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    page = Client()
    unknown_page = page.post("/accounts/login/", {"username": "nobody@example.com", "password": "x-Wrong-2026"})
    wrong_page = page.post("/accounts/login/", {"username": member.email, "password": "x-Wrong-2026"})
    assert unknown_page.context["form"].errors == wrong_page.context["form"].errors
