"""Top-level URLs. Apps contribute their own ``urls.py``; modules are discovered."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from ogc_api.views import landing_page as ogc_landing


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness, for monitoring and for the run script."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (postgis,) = cursor.fetchone()
    return JsonResponse({"status": "ok", "postgis": postgis})


urlpatterns = [
    # The OGC API first: its tiles are most of all requests (patterns are tried in order).
    path("ogc/", include("ogc_api.urls")),
    # The landing page also without the slash: QGIS 3.22's OAPIF provider does not follow
    # the redirect that APPEND_SLASH would send for the URL users type (".../ogc").
    path("ogc", ogc_landing, name="ogc_landing_no_slash"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("etl/", include("etl.urls")),
    path("", include("web.urls")),
]

# Modules (settings.KENTCBS_MODULES) mount their pages under /<code>/ (gis_core.modules).
from gis_core.modules import module_urlpatterns  # noqa: E402

urlpatterns += module_urlpatterns()


# KentCBS's own error pages (web/views_errors.py): Turkish first, in the one base template.
handler400 = "web.views_errors.bad_request"
handler403 = "web.views_errors.permission_denied"
handler404 = "web.views_errors.page_not_found"
handler500 = "web.views_errors.server_error"
