from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import json_error_view
from config.errors import NotFound, ServerError, request_refusal
from config.middleware import refusal_response

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = _("Points Mall admin")
admin.site.index_title = _("Campaign operations")

# Swagger UI under the site's Content-Security-Policy: the split view serves its start-up script as a file
# (?script), not inline; its page and stylesheet need inline styles and data: images, allowed on this view only.
_swagger_ui = csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", include("campaigns.urls")),
    path("accounts/", include("accounts.urls")),
    path("points/", include("points.urls")),
    path("", include("tasks.urls")),
    path("", include("lottery.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", _swagger_ui, name="api-docs"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

_api_404 = json_error_view(NotFound.code, NotFound.default_message, NotFound.status)
# Anything else under /api/ is a JSON 404 in the error shape (never an HTML page, even with DEBUG on).
urlpatterns.append(re_path(r"^api/", _api_404))
_api_500 = json_error_view(ServerError.code, ServerError.default_message, ServerError.status)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own refusals (a body over the upload limit, too many form fields, a disallowed Host...)."""
    return refusal_response(request, request_refusal(exception or Exception()))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_404(request, exception)
    return render(request, "404.html", status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_500(request)
    return render(request, "500.html", status=500)
