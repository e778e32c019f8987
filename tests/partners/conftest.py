from tests.tasks.conftest import campaign  # noqa: F401 — the shared campaign fixture (official from 1 March 2026)
