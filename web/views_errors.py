"""KentCBS's own 400, 403, 404 and 500 pages (``handler400`` ... in gis_core.urls).

Each page extends the one base template, speaks the user's language (Turkish
unless they chose English) and offers a way back. The 500 page is rendered
without the request's context processors, so it needs neither the database nor a
signed-in user; should even that fail, a fixed page is sent. Under ``/ogc/`` the
answers are JSON, like every other answer of the OGC API.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from gis_core.errors import InvalidParameter, bilingual

log = logging.getLogger(__name__)

#: The last resort when even the template cannot be rendered (Turkish, then English).
PLAIN_500 = (
    '<!doctype html><html lang="tr"><head><meta charset="utf-8"><title>KentCBS</title></head>'
    "<body><h1>Sunucu hatası</h1><p>Beklenmeyen bir hata oluştu; Bilgi İşlem Müdürlüğü "
    'bilgilendirildi.</p><p><a href="/">Ana sayfaya dön</a></p><hr><p lang="en">Server '
    'error: something unexpected happened. <a href="/">Back to the home page</a></p>'
    "</body></html>")


def _request_id() -> str:
    from gis_core.audit import current

    return current().request_id


def _json(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(json.dumps({"code": code, "description": bilingual(message)},
                                   ensure_ascii=False),
                        status=status, content_type="application/json")


def _page(request: HttpRequest, status: int, title: str, message: str,
          **extra: Any) -> HttpResponse:
    from django.shortcuts import render

    return render(request, "web/error.html", {"status": status, "title": title,
                                              "message": message, **extra}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: a malformed parameter (its own message) or a request Django refused."""
    if request.path.startswith("/ogc/"):
        return _json(400, "InvalidParameterValue", "invalid request")
    message = (exception.text if isinstance(exception, InvalidParameter)
               else _("The request could not be understood: a parameter or the address is "
                      "malformed."))
    return _page(request, 400, _("Invalid request"), message)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: signed in, but this page is not for this user's roles."""
    if request.path.startswith("/ogc/"):
        return _json(403, "Forbidden", "forbidden")
    return _page(request, 403, _("Access denied"),
                 _("You do not have permission to see this page. If you need it, ask the GIS "
                   "administrator of your department."), sign_in=request.get_full_path())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: no such page, or one this user may not know exists."""
    if request.path.startswith("/ogc/"):
        return _json(404, "NotFound", "not found")
    return _page(request, 404, _("Page not found"),
                 _("The page you asked for was not found, or you may not see it."))


def server_error(request: HttpRequest) -> HttpResponse:
    """500: no context processors (no database, no user), and a fixed page as last resort."""
    request_id = _request_id()
    if request.path.startswith("/ogc/"):
        response = _json(500, "ServerError", "server error")
        response["X-Request-ID"] = request_id
        return response
    try:
        body = render_to_string("web/error.html", {
            "status": 500, "title": _("Server error"), "request_id": request_id,
            "message": _("Something unexpected happened; the IT directorate has been "
                         "notified. Try again in a little while.")})
    except Exception:  # the error page of last resort must always answer (logged)
        log.exception("the 500 page could not be rendered")
        body = PLAIN_500
    return HttpResponse(body, status=500)
