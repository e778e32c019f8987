from django.urls import path, register_converter

from partners import views


class MonthConverter:
    """A month key in a URL: YYYY-MM (its value is checked by partners.periods.month_parse in the selector)."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")

app_name = "partners"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tier-changes/seen/", views.tier_changes_dismiss, name="tier_changes_seen"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<month:period>/", views.statement_detail, name="statement"),
    path("statements/<month:period>.csv", views.statement_download, name="statement_csv"),
    path("join/<str:code>/", views.join, name="join"),
    path("applied/", views.applied, name="applied"),
]
