"""Uploaded files are served by Django only when DEBUG or SERVE_MEDIA says so (docker-compose: one box, no proxy)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings
from django.urls import clear_url_caches

import config.urls


@pytest.fixture
def reload_urls() -> Iterator[None]:
    yield
    importlib.reload(config.urls)
    clear_url_caches()


def _urls() -> None:
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_media_served_only_when_asked(tmp_path, reload_urls) -> None:
    (tmp_path / "mall").mkdir()
    (tmp_path / "mall" / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with override_settings(MEDIA_ROOT=str(tmp_path), SERVE_MEDIA=True):
        _urls()
        response = Client().get("/media/mall/p.png")
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        assert "max-age=3600" in response["Cache-Control"]
        assert Client().get("/media/%2e%2e/%2e%2e/manage.py").status_code in {400, 404}  # never outside MEDIA_ROOT
    with override_settings(MEDIA_ROOT=str(tmp_path), SERVE_MEDIA=False):
        _urls()
        assert Client().get("/media/mall/p.png").status_code == 404
