"""Validation report pages and the upload form (being written; see issue 6)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


report_list = report_detail = report_rejected_gpkg = report_json = _todo
upload = upload_progress = _todo
