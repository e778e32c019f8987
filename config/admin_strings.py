"""Django's own admin strings that its zh_Hans catalogue lacks (Django 5.2: the hidden column titles of the
admin's app list). Marked here so makemessages puts them in our catalogue, which LOCALE_PATHS puts first;
tests/e2e/test_admin_accessibility.py finds any such English left on a Chinese admin page."""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)
