"""The Celery application: Redis broker, JSON only, late acks, beat schedule in the database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("pointsmall")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every app keeps its Celery tasks in jobs.py (tasks/ is a product app, so tasks.py would be ambiguous).
app.autodiscover_tasks(related_name="jobs")
