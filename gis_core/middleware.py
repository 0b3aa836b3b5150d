"""KentCBS middleware: the audit context, lazy messages, Turkish-first language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty

from gis_core.audit import audit_context, new_request_id


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = "api" if request.path.startswith("/ogc/") else "web"
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:32] or new_request_id()
        with audit_context(user=getattr(request, "user", None), source=source,
                           request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's message middleware, making the message storage only when it is used.

    Django builds the cookie and session message stores on every request; a tile or
    an API call never shows a message. Unused storage has nothing to save, so the
    response is left alone exactly as Django's ``update`` would leave it.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


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
        request.LANGUAGE_CODE = language

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # The language comes from the cookie, never from the path (no i18n_patterns) nor
        # from Accept-Language, so the response varies by Cookie; Django's version adds
        # Vary: Accept-Language and looks for a language prefix on every response.
        if response.has_header("Vary"):
            patch_vary_headers(response, ("Cookie",))
        else:
            response.headers["Vary"] = "Cookie"
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
