"""Per-layer templates a department fills: an empty GeoPackage (with its QGIS style), the
QGIS style alone, and an Excel workbook (issue 18 §3); made from the layer's definition."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from layers import file_templates
from layers.access import can_read
from web import reports

#: File kind -> (maker, content type).
KINDS = {
    "gpkg": (file_templates.geopackage_template, "application/geopackage+sqlite3"),
    "qml": (lambda layer: file_templates.qml_style(layer).encode(), "application/xml"),
    "xlsx": (file_templates.xlsx_template,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@login_required
@require_GET
def layer_template(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    """The template ``kind`` of layer ``code`` (404 for a layer the user may not read)."""
    layer = reports.layer_or_none(code)
    if layer is None or kind not in KINDS or not can_read(request.user, layer):
        raise Http404
    make, content_type = KINDS[kind]
    response = HttpResponse(make(layer), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="kentcbs-{layer.code}-v{layer.version}-sablon.{kind}"')
    return response
