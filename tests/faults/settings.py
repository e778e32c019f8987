"""config.settings.prod for the fault run (tests/faults/run_faults.py): the same settings, with the static files
collected into the run's own throwaway directory (the manifest storage needs them for the pages)."""

from config.settings.prod import *  # noqa: F403

STATIC_ROOT = env("FAULTS_STATIC_ROOT")  # noqa: F405
