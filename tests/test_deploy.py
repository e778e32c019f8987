"""Production settings pass Django's deployment checklist, and refuse to start without their secrets."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _prod_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "SECURE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        SECRET_KEY=secrets.token_urlsafe(64),  # 86 chars, well past Django's 50-char/5-unique minimum
        ALLOWED_HOSTS="example.com",
        CSRF_TRUSTED_ORIGINS="https://example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pointsmall"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_prod_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_prod_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output


def test_check_deploy_catches_a_weak_secret_key() -> None:
    """Proves the check above can fail: the same command rejects a short SECRET_KEY (security.W009)."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_prod_env(SECRET_KEY="short"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_prod_settings_refuse_to_start_without_a_secret_key() -> None:
    dotenv = ROOT / ".env"
    if dotenv.exists() and "SECRET_KEY" in dotenv.read_text():
        pytest.skip("a local .env provides SECRET_KEY")
    env = _prod_env()
    del env["SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
