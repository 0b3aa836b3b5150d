"""Per-request audit context: who, from where (web or api), which request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from gis_core.audit import audit_context


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = "api" if request.path.startswith("/ogc/") else "web"
        request_id = request.headers.get("X-Request-ID", "")[:32] or uuid.uuid4().hex[:16]
        with audit_context(user=getattr(request, "user", None), source=source,
                           request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class TurkishFirstLocaleMiddleware(LocaleMiddleware):
    """Turkish unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, so a browser
    set to English would get English pages; a municipality's staff get Turkish
    first, and English only by choosing it (the switch sets the language cookie).
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        codes = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in codes else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
