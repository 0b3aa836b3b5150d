"""The map printed to PDF on the server: matplotlib draws the layers read from PostGIS.

The page shows the map at a stated, round scale (1:500 … 1:500 000) in the
municipality's TM zone, with a scale bar, a north arrow (grid north of the zone),
the legend of every layer drawn, the title, the municipality's name, the date and
the user. Fonts are embedded as TrueType (``pdf.fonttype 42``), so every word of
the page can be found and copied (``pdftotext``, pypdf).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg2 import sql

from ogc_api.config import LayerView

#: Paper sizes in millimetres, portrait (width, height).
PAPER = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
SCALES = (500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000, 100_000, 200_000,
          250_000, 500_000)
MARGIN = 10.0
HEADER = 16.0
FOOTER = 42.0
#: Features drawn per layer at most (a city at 1:500 000 is drawn generalised).
FEATURE_LIMIT = 200_000
MM_PER_INCH = 25.4
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class PrintRequest:
    bbox: tuple[float, float, float, float]
    layers: list[LayerView]
    paper: str
    landscape: bool
    title: str
    user: str
    municipality: str
    srid: int
    lang: str
    boundary_wkb: bytes | None = None


def page_size(paper: str, landscape: bool) -> tuple[float, float]:
    width, height = PAPER[paper]
    return (height, width) if landscape else (width, height)


def map_frame(paper: str, landscape: bool) -> tuple[float, float]:
    """Width and height of the map frame on the page, millimetres."""
    width, height = page_size(paper, landscape)
    return width - 2 * MARGIN, height - 2 * MARGIN - HEADER - FOOTER


def choose_scale(extent: tuple[float, float, float, float], frame: tuple[float, float]) -> int:
    """The smallest round scale at which ``extent`` (metres) fits the frame (millimetres).

    Examples
    --------
    >>> choose_scale((0, 0, 1000, 500), (190, 200))
    10000
    """
    need = max((extent[2] - extent[0]) / frame[0], (extent[3] - extent[1]) / frame[1]) * 1000
    return next((scale for scale in SCALES if scale >= need), SCALES[-1])


def nice_length(metres: float) -> float:
    """A round length (1, 2 or 5 × 10^k metres) not longer than ``metres``."""
    import math

    power = 10 ** math.floor(math.log10(max(metres, 1e-9)))
    for step in (5, 2, 1):
        if step * power <= metres:
            return float(step * power)
    return float(power)


def _bbox_in_zone(bbox: tuple[float, float, float, float], srid: int
                  ) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", f"EPSG:{srid}", always_xy=True)
    return transformer.transform_bounds(*bbox, densify_pts=21)


def _read(view: LayerView, extent: tuple[float, float, float, float], tolerance: float
          ) -> list[tuple[bytes, dict[str, Any]]]:
    layer = view.layer
    rule_fields = sorted({rule.field for rule in layer.style.rules})
    geom = sql.Identifier(layer.geometry_column)
    where = sql.SQL("{} && ST_MakeEnvelope({}, {}, {}, {}, {})").format(
        geom, *map(sql.Literal, extent), sql.Literal(layer.srid))
    if view.rows is not None:
        where = sql.SQL("{} AND ({})").format(where, sql.SQL(view.rows))
    columns = [sql.SQL("ST_AsBinary(ST_SimplifyPreserveTopology({}, {}))").format(
        geom, sql.Literal(tolerance)), *[sql.SQL("{}::text").format(sql.Identifier(name))
                                         for name in rule_fields]]
    statement = sql.SQL("SELECT {} FROM {} WHERE {} LIMIT {}").format(
        sql.SQL(", ").join(columns), sql.Identifier(layer.table_schema, layer.table_name),
        where, sql.Literal(FEATURE_LIMIT))
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return [(bytes(row[0]), dict(zip(rule_fields, row[1:], strict=True)))
                for row in cursor.fetchall() if row[0] is not None]


def _labels(view: LayerView, extent: tuple[float, float, float, float]
            ) -> list[tuple[str, float, float]]:
    """Label text and anchor (zone metres) of each named feature, when the standard names a
    label field the caller may see: a line at its middle, an area on its surface."""
    layer = view.layer
    if not layer.style.label or layer.style.label not in view.fields:
        return []
    geom = sql.Identifier(layer.geometry_column)
    label = sql.Identifier(layer.style.label)
    anchor = (sql.SQL("ST_LineInterpolatePoint(ST_LineMerge(ST_GeometryN({}, 1)), 0.5)")
              if "Line" in layer.geometry_type else sql.SQL("ST_PointOnSurface({})")).format(geom)
    where = sql.SQL("{g} && ST_MakeEnvelope({}, {}, {}, {}, {s}) AND {l} IS NOT NULL").format(
        *map(sql.Literal, extent), g=geom, s=sql.Literal(layer.srid), l=label)
    if view.rows is not None:
        where = sql.SQL("{} AND ({})").format(where, sql.SQL(view.rows))
    statement = sql.SQL(
        "SELECT t, ST_X(a), ST_Y(a) FROM (SELECT DISTINCT ON ({l}) {l}::text AS t, {a} AS a "
        "FROM {table} WHERE {w} ORDER BY {l}, ST_Length({g}) DESC, ST_Area({g}) DESC) AS x "
        "WHERE a IS NOT NULL LIMIT 300").format(
        l=label, a=anchor, table=sql.Identifier(layer.table_schema, layer.table_name), w=where,
        g=geom)
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return [(str(t), float(x), float(y)) for t, x, y in cursor.fetchall()]


def _style_of(layer: Any, values: dict[str, Any]) -> dict[str, Any]:
    style = layer.style
    out = {"color": style.color, "fill": style.fill_color or style.color,
           "weight": style.weight, "dash": None}
    for rule in style.rules:
        if str(values.get(rule.field)) == rule.value:
            out["color"] = rule.color or out["color"]
            out["fill"] = rule.fill_color or out["fill"]
            out["weight"] = rule.weight if rule.weight is not None else out["weight"]
            out["dash"] = rule.dash_array or out["dash"]
    return out


def _draw_layer(ax: Any, view: LayerView, rows: list[tuple[bytes, dict[str, Any]]]) -> None:
    import shapely
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    layer = view.layer
    kind = layer.geometry_type
    geoms = shapely.from_wkb([row[0] for row in rows])
    styles = [_style_of(layer, row[1]) for row in rows]
    # Path widths: the web map's pixels drawn as points (1 px ≈ 0.5 pt at print size).
    if "Polygon" in kind:
        patches, faces, edges, widths = [], [], [], []
        for geom, style in zip(geoms, styles, strict=True):
            for poly in getattr(geom, "geoms", [geom]):
                if poly.is_empty or poly.geom_type != "Polygon":
                    continue
                rings = [poly.exterior, *poly.interiors]
                vertices, codes = [], []
                for ring in rings:
                    coords = list(ring.coords)
                    vertices.extend(coords)
                    codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2)
                                 + [MplPath.CLOSEPOLY])
                patches.append(PathPatch(MplPath(vertices, codes)))
                faces.append(style["fill"])
                edges.append(style["color"])
                widths.append(style["weight"] * 0.5)
        if patches:
            alpha = layer.style.fill_opacity
            collection = PatchCollection(patches, facecolors=faces, edgecolors=edges,
                                         linewidths=widths, zorder=1)
            collection.set_alpha(None)
            collection.set_facecolor([_rgba(colour, alpha) for colour in faces])
            ax.add_collection(collection)
    elif "Line" in kind:
        segments, colours, widths = [], [], []
        for geom, style in zip(geoms, styles, strict=True):
            for line in getattr(geom, "geoms", [geom]):
                if not line.is_empty:
                    segments.append(list(line.coords))
                    colours.append(_rgba(style["color"], layer.style.opacity))
                    widths.append(style["weight"] * 0.5)
        if segments:
            ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths,
                                             zorder=2))
    else:
        xs, ys, faces = [], [], []
        for geom, style in zip(geoms, styles, strict=True):
            for point in getattr(geom, "geoms", [geom]):
                if not point.is_empty:
                    xs.append(point.x)
                    ys.append(point.y)
                    faces.append(style["fill"])
        if xs:
            ax.scatter(xs, ys, s=(layer.style.radius * 0.8) ** 2, c=faces,
                       edgecolors=layer.style.color, linewidths=0.4, zorder=3)


def _rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour, alpha)


def _legend_handles(view: LayerView, lang: str) -> list[tuple[Any, str]]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from web.selectors import legend_entries

    layer = view.layer
    out = []
    for entry in legend_entries(layer, lang=lang):
        style = entry["style"]
        label = entry["label"] if not entry.get("rule") else "  " + entry["label"]
        if "Polygon" in layer.geometry_type:
            handle: Any = Patch(facecolor=_rgba(style["fillColor"], layer.style.fill_opacity),
                                edgecolor=style["color"], linewidth=style["weight"] * 0.5)
        elif "Line" in layer.geometry_type:
            handle = Line2D([0], [0], color=style["color"], linewidth=style["weight"] * 0.6,
                            linestyle="--" if style.get("dashArray") else "-")
        else:
            handle = Line2D([0], [0], marker="o", linestyle="", markerfacecolor=style["fillColor"],
                            markeredgecolor=style["color"], markersize=5)
        out.append((handle, label))
    return out


def render_pdf(request: PrintRequest, *, fmt: str = "pdf") -> tuple[bytes, int]:
    """The PDF of ``request`` and the scale it was drawn at (1:scale).

    ``fmt="png"`` draws the same page as a picture (for a preview or a test's eyes).
    """
    import matplotlib

    matplotlib.use("Agg")
    # matplotlib is not thread-safe (rc_context changes process-wide settings, fonts are
    # shared): one page at a time per process (gunicorn runs several threads).
    # TrueType fonts (text stays text); names from the data are never read as TeX ($...$).
    with _RENDER_LOCK, matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans",
                                "text.parse_math": False, "text.usetex": False}):
        return _render(request, fmt)


def _render(request: PrintRequest, fmt: str) -> tuple[bytes, int]:
    import matplotlib.patches
    from matplotlib.figure import Figure

    width, height = page_size(request.paper, request.landscape)
    frame = map_frame(request.paper, request.landscape)
    box = _bbox_in_zone(request.bbox, request.srid)
    scale = choose_scale(box, frame)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = frame[0] * scale / 2000, frame[1] * scale / 2000
    extent = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    fig = Figure(figsize=(width / MM_PER_INCH, height / MM_PER_INCH))

    def axes_mm(left: float, bottom: float, w: float, h: float) -> Any:
        return fig.add_axes((left / width, bottom / height, w / width, h / height))

    ax = axes_mm(MARGIN, MARGIN + FOOTER, frame[0], frame[1])
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    tolerance = 0.1 * scale / 1000  # 0.1 mm on paper
    ordered = sorted(request.layers, key=lambda v: 0 if "Polygon" in v.layer.geometry_type
                     else 1 if "Line" in v.layer.geometry_type else 2)
    for view in ordered:
        _draw_layer(ax, view, _read(view, extent, tolerance))
    # A white box behind each label, not a path-effect halo: a halo turns the text into
    # paths, and the printed names could no longer be found or copied.
    for view in ordered:
        for text, x, y in _labels(view, extent):
            if extent[0] <= x <= extent[2] and extent[1] <= y <= extent[3]:
                ax.text(x, y, text, fontsize=6, ha="center", va="center", zorder=5,
                        clip_on=True, bbox={"facecolor": "white", "alpha": 0.75,
                                            "edgecolor": "none", "pad": 0.6})
    if request.boundary_wkb:
        import shapely

        boundary = shapely.from_wkb(request.boundary_wkb)
        for poly in getattr(boundary, "geoms", [boundary]):
            xs, ys = poly.exterior.xy
            ax.plot(xs, ys, color="#1f4e79", linewidth=1.2, linestyle=(0, (6, 3)), zorder=4)
    # Header: title, municipality.
    fig.text(MARGIN / width, 1 - (MARGIN + 7) / height, request.title, fontsize=16,
             fontweight="bold", va="baseline")
    fig.text(MARGIN / width, 1 - (MARGIN + 13) / height, request.municipality, fontsize=10,
             va="baseline", color="#333333")
    # Footer: legend on the left, scale, north arrow and the imprint on the right.
    legend_ax = axes_mm(MARGIN, MARGIN, frame[0] * 0.62, FOOTER - 4)
    legend_ax.axis("off")
    handles = [pair for view in ordered for pair in _legend_handles(view, request.lang)]
    if handles:
        columns = 1 if len(handles) <= 6 else 2 if len(handles) <= 14 else 3
        legend_ax.legend([h for h, _l in handles], [lbl for _h, lbl in handles],
                         loc="upper left", ncols=columns, fontsize=6.5, frameon=False,
                         title="Lejant / Legend", title_fontsize=7.5, alignment="left")
    info_left = MARGIN + frame[0] * 0.64
    info_w = frame[0] - frame[0] * 0.64
    info = axes_mm(info_left, MARGIN, info_w, FOOTER - 4)
    info.set_xlim(0, info_w)
    info.set_ylim(0, FOOTER - 4)
    info.axis("off")
    bar_m = nice_length(info_w * 0.6 * scale / 1000)
    bar_mm = bar_m / scale * 1000
    for i in range(4):
        info.add_patch(matplotlib.patches.Rectangle(
            (i * bar_mm / 4, FOOTER - 12), bar_mm / 4, 2, facecolor="black" if i % 2 == 0
            else "white", edgecolor="black", linewidth=0.5))
    unit = (f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m")
    info.text(0, FOOTER - 9, "0", fontsize=6, ha="center")
    info.text(bar_mm, FOOTER - 9, unit, fontsize=6, ha="center")
    info.text(0, FOOTER - 16.5, f"Ölçek / Scale 1:{scale:,}".replace(",", "."), fontsize=8)
    # North arrow (grid north of the TM zone).
    nx = info_w - 6
    info.annotate("", xy=(nx, FOOTER - 6), xytext=(nx, FOOTER - 17),
                  arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2})
    info.text(nx, FOOTER - 5.5, "K / N", fontsize=7, ha="center", va="bottom")
    stamp = timezone.localtime()
    lines = [f"EPSG:{request.srid} (TM)", f"{stamp:%d.%m.%Y %H:%M}",
             f"Hazırlayan / Prepared by: {request.user}"]
    for i, line in enumerate(lines):
        info.text(0, FOOTER - 22 - i * 4.2, line, fontsize=6.5)
    out = io.BytesIO()
    if fmt == "png":
        fig.savefig(out, format="png", dpi=110)
    else:
        fig.savefig(out, format="pdf", metadata={"Title": request.title, "Creator": "KentCBS"})
    return out.getvalue(), scale
