"""Cursor pagination whose cursors cannot be forged: the one paginator of every cursor-paginated API list
(REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]; a view's own paginator subclasses it to set `ordering`).

DRF's cursor is base64 of `o=<offset>&r=<reverse>&p=<position>`, and the position goes straight into the
queryset's filter: `p=abc` against an integer ordering was a ValueError (500), `p=%00` a NUL PostgreSQL refuses.
Here the same three values are signed (django.core.signing, salted with the paginator's class and ordering, so a
cursor of one list is not accepted by another) and checked for type after the signature. Anything else — not
signed by us, edited, another list's, from before a SECRET_KEY rotation — is 400 `invalid_cursor`."""

from __future__ import annotations

from typing import Any, cast

from django.core import signing
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from config.errors import InvalidCursor


class SignedCursorPagination(CursorPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def _signer(self) -> signing.Signer:
        ordering = ",".join(self.ordering) if isinstance(self.ordering, list | tuple) else str(self.ordering)
        return signing.Signer(salt=f"{type(self).__module__}.{type(self).__qualname__}:{ordering}")

    def encode_cursor(self, cursor: Cursor) -> str:
        token = self._signer().sign_object([cursor.offset, cursor.reverse, cursor.position])
        return replace_query_param(self.base_url or "", self.cursor_query_param, token)

    def decode_cursor(self, request: Request) -> Cursor | None:
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        try:
            value: Any = self._signer().unsign_object(token)
        except (signing.BadSignature, ValueError, UnicodeError):
            raise InvalidCursor() from None
        match value:
            case [int() as offset, bool() as reverse, (str() | None) as position] if (
                not isinstance(offset, bool) and 0 <= offset <= self.offset_cutoff
            ):
                # The stubs type position as int; DRF's positions are the ordering field's value as text.
                return Cursor(offset=offset, reverse=reverse, position=cast(Any, position))
        raise InvalidCursor()
