"""The map's tools: identify, labels, a layer's export and the printed map (PDF).

Permission-checked through ``ogc_api.selectors`` (``layers.access``): a caller gets
only the layers, fields and rows the OGC API would give them, and reads of a layer
holding personal data are written to the access log.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gis_core.models import Municipality
from ogc_api.query import ParameterError
from ogc_api.selectors import layer_view, layer_views
from web import exports, layer_reads, printing

MAX_PRINT_LAYERS = 20


def _lang() -> str:
    return "en" if (get_language() or "tr").startswith("en") else "tr"


def _error(code: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _number(value: str | None, low: float, high: float) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    parts = (value or "").split(",")
    if len(parts) != 4:
        return None
    numbers = [_number(part, -180, 180) for part in parts]
    if any(n is None for n in numbers):
        return None
    minx, miny, maxx, maxy = (float(n) for n in numbers)  # type: ignore[arg-type]
    if minx >= maxx or miny >= maxy or abs(miny) > 90 or abs(maxy) > 90:
        return None
    return minx, miny, maxx, maxy


@login_required
def identify_json(request: HttpRequest) -> JsonResponse:
    """Features within a few pixels of ``?lon=&lat=`` at ``&zoom=``, from every readable layer.

    ``&layers=a,b`` limits the answer to those layers (the map sends the visible ones).
    """
    lon = _number(request.GET.get("lon"), -180, 180)
    lat = _number(request.GET.get("lat"), -90, 90)
    zoom = _number(request.GET.get("zoom", "18"), 0, 24)
    if lon is None or lat is None or zoom is None:
        return _error("BAD_POINT", _("lon, lat and zoom must be numbers in range."))
    codes = None
    if "layers" in request.GET:
        codes = [code for code in request.GET["layers"].split(",") if code][:50]
    data = layer_reads.identify(user=request.user, lon=lon, lat=lat, zoom=zoom, lang=_lang(),
                                codes=codes, path=request.path,
                                query=request.META.get("QUERY_STRING", ""))
    return JsonResponse(data)


@login_required
def labels_json(request: HttpRequest, code: str) -> JsonResponse:
    """Label texts and anchors of a layer inside ``?bbox=`` (CRS84), for the map's labels."""
    bbox = _bbox(request.GET.get("bbox"))
    if bbox is None:
        return _error("BAD_BBOX", _("bbox must be four numbers: west, south, east, north."))
    return JsonResponse({"labels": layer_reads.labels(user=request.user, code=code, bbox=bbox)})


@login_required
def layer_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """``/layers/<code>/export.<csv|xlsx|gpkg>?filter=<CQL2>``: what the table shows, as a file."""
    if fmt not in exports.FORMATS:
        return _error("BAD_FORMAT", _("The format must be csv, xlsx or gpkg."), status=404)
    view = layer_view(user=request.user, code=code)
    if view is None:
        return _error("NOT_FOUND", _("There is no such layer, or you may not read it."),
                      status=404)
    try:
        where, filter_text = exports.export_where(view, request.GET)
    except ParameterError as exc:
        return _error("BAD_FILTER", _("The filter is not valid: %(reason)s")
                      % {"reason": str(exc)})
    layer_reads.audit(user=request.user, view=view, path=request.path,
                      query=request.META.get("QUERY_STRING", ""),
                      bbox=request.GET.get("bbox", ""), filter_text=filter_text)
    name = exports.export_filename(view, fmt)
    response: HttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_stream(view, where),
                                         content_type=exports.FORMATS[fmt])
    else:
        path = (exports.write_xlsx(view, where, lang=_lang()) if fmt == "xlsx"
                else exports.write_gpkg(view, where))
        handle = open(path, "rb")
        os.unlink(path)  # the open handle keeps the data until the response is sent
        response = FileResponse(handle, content_type=exports.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _municipality() -> tuple[str, bytes | None]:
    from django.contrib.gis.db.models.functions import AsWKB

    row = (Municipality.objects.annotate(wkb=AsWKB("boundary")).values_list("name", "wkb")
           .first())
    if row is None:
        return "", None
    return (_("%(name)s Municipality") % {"name": row[0]},
            bytes(row[1]) if row[1] is not None else None)


@login_required
def print_pdf(request: HttpRequest) -> HttpResponse:
    """``/map/print.pdf?bbox=&layers=&paper=A4|A3&orientation=&title=``: the map as a PDF."""
    bbox = _bbox(request.GET.get("bbox"))
    if bbox is None:
        return _error("BAD_BBOX", _("bbox must be four numbers: west, south, east, north."))
    paper = request.GET.get("paper", "A4")
    orientation = request.GET.get("orientation", "portrait")
    if paper not in printing.PAPER or orientation not in {"portrait", "landscape"}:
        return _error("BAD_PAPER", _("paper must be A4 or A3, orientation portrait or "
                                     "landscape."))
    readable = layer_views(user=request.user)
    codes = [c for c in request.GET.get("layers", "").split(",") if c][:MAX_PRINT_LAYERS]
    views = [readable[c] for c in codes if c in readable]
    title = (request.GET.get("title") or _("Map")).replace("\x00", "").strip()[:120]
    municipality, boundary = _municipality()
    user = request.user
    who = (user.get_full_name() or user.get_username()) if hasattr(user, "get_full_name") \
        else str(user)
    for view in views:
        layer_reads.audit(user=user, view=view, path=request.path,
                          query=request.META.get("QUERY_STRING", ""),
                          bbox=request.GET.get("bbox", ""))
    pdf, scale = printing.render_pdf(printing.PrintRequest(
        bbox=bbox, layers=views, paper=paper, landscape=orientation == "landscape",
        title=title, user=who, municipality=municipality, srid=int(settings.KENTCBS_SRID),
        lang=_lang(), boundary_wkb=boundary))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="kentcbs-harita.pdf"'
    response["X-Map-Scale"] = f"1:{scale}"
    return response

