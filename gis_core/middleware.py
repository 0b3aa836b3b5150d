"""Per-request audit context: who, from where (web or api), which request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
