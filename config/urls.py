from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import json_error_view
from config.db_unavailable import database_error_being_handled, database_unavailable_response
from config.errors import NotFound, PermissionDenied, ServerError, request_refusal
from config.middleware import refusal_response

# ADMIN_SITE_HEADER overrides the header as typed; unset, it is the translated default (the zh admin reads Chinese).
admin.site.site_header = settings.ADMIN_SITE_HEADER or _("Points Mall · Operations")
admin.site.site_title = _("Points Mall admin")
admin.site.index_title = _("Campaign operations")

# Swagger UI under the site's Content-Security-Policy: the split view serves its start-up script as a file
# (?script), not inline; its page and stylesheet need inline styles and data: images, allowed on this view only.
_swagger_ui = csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

_FAVICON = settings.BASE_DIR / "static" / "favicon.ico"  # the .ico form of static/favicon.svg


@cache_control(public=True, max_age=60 * 60 * 24)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and crawlers ask for whatever the pages link (the pages link the SVG)."""
    return HttpResponse(_FAVICON.read_bytes(), content_type="image/x-icon")


urlpatterns = [
    path("api/v1/", include("config.api_urls")),  # first: the API's hot paths resolve without trying the pages'
    path("", include("campaigns.urls")),
    path("accounts/", include("accounts.urls")),
    path("points/", include("points.urls")),
    path("", include("tasks.urls")),
    path("", include("lottery.urls")),
    path("", include("mall.urls")),
    path("", include("referrals.urls")),
    path("", include("levels.urls")),
    path("partner/", include("partners.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", _swagger_ui, name="api-docs"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("favicon.ico", favicon, name="favicon"),
]

# Uploaded files (product pictures, campaign banners): see SERVE_MEDIA in config/settings/base.py.
if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(
            r"^media/(?P<path>.+)$",
            cache_control(public=True, max_age=3600)(serve),
            {"document_root": settings.MEDIA_ROOT},
        )
    )

_api_404 = json_error_view(NotFound.code, NotFound.default_message, NotFound.status)
# Anything else under /api/ is a JSON 404 in the error shape (never an HTML page, even with DEBUG on).
urlpatterns.append(re_path(r"^api/", _api_404))
_api_500 = json_error_view(ServerError.code, ServerError.default_message, ServerError.status)
_api_403 = json_error_view(PermissionDenied.code, PermissionDenied.default_message, PermissionDenied.status)


def _error_page(request: HttpRequest, name: str, status: int) -> HttpResponse:
    """A styled, translated error page: in the admin's look under /admin/ (with the admin's header and links),
    in the members' look elsewhere."""
    if request.path.startswith("/admin/"):
        return render(request, f"admin/{name}", {**admin.site.each_context(request), "title": ""}, status=status)
    return render(request, name, status=status)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A staff member without the permission (an analyst on Adjust points or the shipment import), a member
    on a page that is not theirs. Under /api/ the JSON error shape."""
    if request.path.startswith("/api/"):
        return _api_403(request, exception)
    return _error_page(request, "403.html", 403)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own refusals (a body over the upload limit, too many form fields, a disallowed Host...)."""
    return refusal_response(request, request_refusal(exception or Exception()))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_404(request, exception)
    return _error_page(request, "404.html", 404)


def handler500(request: HttpRequest) -> HttpResponse:
    if database_error_being_handled():  # a lost database connection, raised outside a view: 503, retry
        return database_unavailable_response(request)
    if request.path.startswith("/api/"):
        return _api_500(request)
    return render(request, "500.html", status=500)
