"""A copy of the database gives nobody a working API token: only SHA-256 digests are stored (docs/security.md)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from accounts.errors import InvalidToken
from accounts.services import token_authenticate, token_issue

pytestmark = pytest.mark.django_db


def test_only_digests_of_tokens_are_stored(member):
    pair = token_issue(user=member, name="phone")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM accounts_apitoken t WHERE id = %s", [pair.token.pk])
        stored = cursor.fetchone()[0]
    assert pair.access not in stored
    assert pair.refresh not in stored
    assert pair.token.access_digest == hashlib.sha256(pair.access.encode()).hexdigest()
    assert pair.token.refresh_digest == hashlib.sha256(pair.refresh.encode()).hexdigest()
    assert token_authenticate(access=pair.access).pk == pair.token.pk
    with pytest.raises(InvalidToken):  # the digest itself is not a token
        token_authenticate(access=pair.token.access_digest)
