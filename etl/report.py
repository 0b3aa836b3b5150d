"""Batch reports: JSON for machines, an HTML page for people, a GeoPackage for QGIS.

All three are written under ``MEDIA_ROOT/etl/batches/<id>/``. The HTML page is
self-contained: Leaflet (django-leaflet's packaged copy) is written into it, so
it works opened as a file, with no server, CDN, tile server or external URL.
Features are referred to as people find them in QGIS: their 1-based row in the
file and their key value.
"""

from __future__ import annotations

import copy
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from etl.messages import render

if TYPE_CHECKING:
    import folium

#: At most this many problem locations are drawn on the report map.
MAP_LIMIT = 5000
#: At most this many problem rows are listed in the HTML page (all are in JSON/GPKG).
HTML_ROW_LIMIT = 2000


@dataclass
class BatchReport:
    """Everything a report shows; filled chunk by chunk by the services."""

    summary: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    problems: list[pd.DataFrame] = field(default_factory=list)
    rejected: list[gpd.GeoDataFrame] = field(default_factory=list)
    locations: list[gpd.GeoSeries] = field(default_factory=list)
    #: The municipality boundary in the storage CRS (drawn under the error map), if known.
    boundary: Any = None
    _rendered: pd.DataFrame | None = None
    #: The rejected features' GeoPackage once written by :meth:`prepare` (``None``: none).
    _gpkg: tuple[Path | None] | None = None
    #: JSON and HTML text made by :meth:`prepare` with :data:`SUMMARY_SLOT` for the
    #: summary, and the diagnostics they were made with.
    _pages: tuple[str, str, list[dict[str, Any]]] | None = None

    def prepare(self, batch_id: int, *, crs: Any) -> None:
        """Render the messages, write ``rejected.gpkg`` and lay out the JSON and HTML pages
        but for their summary (the only part that waits for the load): the services call
        this while the database finishes the load."""
        self.rendered()
        self._gpkg = (write_gpkg(batch_dir(batch_id) / "rejected.gpkg", self, crs=crs),)
        self._pages = (_json_text(self, SUMMARY_SLOT), _html_text(self, SUMMARY_SLOT),
                       copy.deepcopy(self.diagnostics))

    def _page(self, which: int) -> str | None:
        """The prepared page (0: JSON, 1: HTML) if the diagnostics are still those it was
        made with."""
        if self._pages is None or self._pages[2] != self.diagnostics:
            return None
        return self._pages[0] if which == 0 else self._pages[1]

    def rendered(self) -> pd.DataFrame:
        """The problems with ``message_tr``/``message_en`` (rendered once)."""
        if self._rendered is None:
            self._rendered = render(self.problem_table())
        return self._rendered

    def problem_table(self) -> pd.DataFrame:
        if not self.problems:
            from etl.validate import empty_problems

            return empty_problems()
        return pd.concat(self.problems, ignore_index=True)


def batch_dir(batch_id: int) -> Path:
    """``MEDIA_ROOT/etl/batches/<id>/`` (created)."""
    path = Path(settings.MEDIA_ROOT) / "etl" / "batches" / str(batch_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def counts(problems: pd.DataFrame) -> dict[str, Any]:
    """Counts per rule (with severity) and per field."""
    by_rule = problems.groupby(["code", "severity"]).size().reset_index(name="count")
    by_field = problems[problems["field"] != ""].groupby(["field", "code"]).size().reset_index(
        name="count")
    return {"by_rule": by_rule.to_dict(orient="records"),
            "by_field": by_field.to_dict(orient="records")}


#: Stands for the summary in pages laid out before the load's counts are known; the
#: summary is the first thing in both pages, so its first occurrence is the slot.
SUMMARY_SLOT = "\x00kentcbs-summary\x00"


#: The problem columns as the reports show them: ``row`` is the feature's 1-based row (as
#: QGIS numbers them), ``other_row`` the row of the other feature of a pair.
REPORT_COLUMNS = ["row", "key", "code", "severity", "field", "value", "detail", "suggestion",
                  "other_row", "other_key", "hint", "message_tr", "message_en"]


def report_problems(table: pd.DataFrame) -> pd.DataFrame:
    """The rendered problems with rows numbered from 1 instead of 0-based feature numbers."""
    out = table.assign(row=table["feature"].to_numpy(dtype=np.int64) + 1,
                       other_row=pd.array(table["other"], dtype="Int64") + 1)
    return out[[c for c in REPORT_COLUMNS if c in out.columns]]


def _json_text(report: BatchReport, summary: Any) -> str:
    table = report.rendered()
    shown = report_problems(table)
    payload = {"summary": summary, "diagnostics": report.diagnostics,
               "counts": counts(table),
               "problems": json.loads(shown.to_json(orient="records", force_ascii=False))}
    return json.dumps(payload, ensure_ascii=False, indent=1, default=str)


def write_json(path: Path, report: BatchReport) -> Path:
    """Write the machine-readable report (summary, diagnostics, counts, every problem)."""
    page = report._page(0)
    if page is None:
        text = _json_text(report, report.summary)
    else:  # the summary as json.dumps nests it one level deep (indent=1)
        summary = json.dumps(report.summary, ensure_ascii=False, indent=1, default=str)
        text = page.replace(json.dumps(SUMMARY_SLOT, ensure_ascii=False),
                            summary.replace("\n", "\n "), 1)
    path.write_text(text, encoding="utf-8")
    return path


def write_gpkg(path: Path, report: BatchReport, *, crs: Any) -> Path | None:
    """Write rejected features with their error columns, for fixing in QGIS."""
    if not report.rejected:
        return None
    features = pd.concat(report.rejected)
    features = gpd.GeoDataFrame(features, geometry=features.geometry.name, crs=crs)
    table = report.rendered()
    errors = table[table["severity"] == "error"]
    per: dict[int, list[list[str]]] = {}
    keys: dict[int, str] = {}
    for feature, key, code, tr, en, hint in errors[
            ["feature", "key", "code", "message_tr", "message_en", "suggestion"]].itertuples(
            index=False, name=None):
        keys[int(feature)] = "" if key is None else str(key)
        slot = per.setdefault(int(feature), [[], [], [], []])
        if code not in slot[0]:
            slot[0].append(code)
        slot[1].append(tr)
        slot[2].append(en)
        if hint:
            slot[3].append(str(hint))
    grouped = pd.DataFrame.from_dict(
        {k: [",".join(v[0]), " | ".join(v[1]), " | ".join(v[2]), " | ".join(v[3])]
         for k, v in per.items()}, orient="index",
        columns=["kentcbs_codes", "kentcbs_errors_tr", "kentcbs_errors_en", "kentcbs_suggestion"])
    out = features.join(grouped, how="left")
    out.insert(0, "kentcbs_key", [keys.get(int(f), "") for f in out.index])
    out.insert(0, "kentcbs_row", out.index.to_numpy(dtype=np.int64) + 1)  # as QGIS numbers
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].astype("string")
    out.to_file(path, driver="GPKG", layer="rejected")
    return path


#: One colour per rule on the error map (others: grey).
RULE_COLOURS = {
    "GEOM_INVALID": "#d62728", "GEOM_EMPTY": "#7f7f7f", "GEOM_TYPE": "#8c564b",
    "GEOM_OVERLAP": "#ff7f0e", "GEOM_DUPLICATE": "#9467bd", "OUTSIDE_MUNICIPALITY": "#1f77b4",
    "BELOW_MIN_AREA": "#e377c2", "BELOW_MIN_LENGTH": "#e377c2", "CODELIST": "#2ca02c",
    "REQUIRED": "#bcbd22", "TYPE": "#17becf", "PATTERN": "#393b79", "RANGE": "#637939",
    "MAX_LENGTH": "#8c6d31", "UNIQUE_IN_FILE": "#843c39", "UNIQUE_IN_DB": "#7b4173",
}
OTHER_COLOUR = "#555555"


def rule_colour(code: str) -> str:
    return RULE_COLOURS.get(code, OTHER_COLOUR)


def problem_map(located: gpd.GeoDataFrame, *, boundary: Any = None) -> folium.Map:
    """A self-contained folium map of the flagged features' own geometries, each in the
    colour of its first rule (``rule``), over the municipality boundary (if given)."""
    import folium  # here, not at import: ~0.25 s that `kentcbs ingest` paid before its load

    from gis_core.maps import StandaloneMap

    fmap = StandaloneMap(tiles=None, control_scale=True, prefer_canvas=False)
    bounds = []
    if boundary is not None and not shapely.is_empty(boundary):
        outline = gpd.GeoSeries([boundary], crs=located.crs).to_crs(4326)
        folium.GeoJson(outline.__geo_interface__, name="boundary", style_function=lambda _: {
            "color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"}).add_to(fmap)
        bounds.append(outline.total_bounds)
    if len(located):
        shown = located.to_crs(4326)
        folium.GeoJson(
            shown, name="problems",
            style_function=lambda f: {"color": f["properties"]["colour"], "weight": 2,
                                      "fillColor": f["properties"]["colour"],
                                      "fillOpacity": 0.35, "radius": 6},
            marker=folium.CircleMarker(radius=6, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["row", "key", "codes"]),
        ).add_to(fmap)
        bounds.append(shown.total_bounds)
    if bounds:
        box = np.array(bounds)
        fmap.fit_bounds([[box[:, 1].min(), box[:, 0].min()], [box[:, 3].max(),
                                                                box[:, 2].max()]])
    return fmap


def _legend(located: gpd.GeoDataFrame) -> str:
    if not len(located):
        return ""
    items = "".join(
        f'<li><span class="swatch" style="background:{rule_colour(code)}"></span>'
        f"<code>{html.escape(code)}</code> ({count})</li>"
        for code, count in located["rule"].value_counts(sort=False).sort_index().items())
    return f'<ul class="legend" id="error-map-legend">{items}</ul>'


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(path: Path, report: BatchReport) -> Path:
    """Write the HTML page: summary, counts per rule and field, rejected features, map."""
    page = report._page(1)
    if page is None:
        text = _html_text(report, report.summary)
    else:
        text = page.replace(SUMMARY_SLOT, _summary_table(report.summary), 1)
    path.write_text(text, encoding="utf-8")
    return path


def _summary_table(summary: Any) -> str:
    return _table([[k, v] for k, v in summary.items()], ["", ""])


def _html_text(report: BatchReport, summary: Any) -> str:

    table = report.rendered()
    with translation.override("tr"):
        labels = {k: gettext(k) for k in (
            "Validation report", "Summary", "Problems per rule", "Problems per field",
            "Rejected features and warnings", "Error map", "Rule", "Severity",
            "Field", "Count", "Row", "Key", "Message", "Suggestion", "Diagnostics")}
    summary_html = summary if isinstance(summary, str) else _summary_table(summary)
    per_rule = counts(table)
    rule_rows = [[r["code"], r["severity"], r["count"]] for r in per_rule["by_rule"]]
    field_rows = [[r["field"], r["code"], r["count"]] for r in per_rule["by_field"]]
    listed = table.sort_values(["feature", "severity"]).head(HTML_ROW_LIMIT)
    problem_rows = [[r.feature + 1, r.key or "", r.code, r.severity, r.field,
                     f"{r.message_tr} / {r.message_en}", r.suggestion or ""]
                    for r in listed.itertuples(index=False)]
    diag_rows = [[d["code"], d["severity"], d["message"]] for d in report.diagnostics]
    located = _locations(report, table)
    fmap = problem_map(located, boundary=report.boundary)

    def h(key: str) -> str:
        en = key
        tr = labels[key]
        return html.escape(tr if tr == en else f"{tr} / {en}")

    more = (f"<p>… {len(table) - HTML_ROW_LIMIT}</p>" if len(table) > HTML_ROW_LIMIT else "")
    body = (
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;"
        "margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
        ".folium-map{height:480px!important;position:relative!important}"
        ".legend{list-style:none;padding:0}.legend li{display:inline-block;margin-right:1em}"
        ".swatch{display:inline-block;width:12px;height:12px;margin-right:4px;"
        "vertical-align:middle;border:1px solid #333}</style>"
        f"<h1>{h('Validation report')}</h1>"
        f"<h2>{h('Summary')}</h2>{summary_html}"
        + (f"<h2>{h('Diagnostics')}</h2>{_table(diag_rows, [h('Rule'), h('Severity'), ''])}"
           if diag_rows else "")
        + f"<h2>{h('Problems per rule')}</h2>"
        f"{_table(rule_rows, [labels['Rule'], labels['Severity'], labels['Count']])}"
        f"<h2>{h('Problems per field')}</h2>"
        f"{_table(field_rows, [labels['Field'], labels['Rule'], labels['Count']])}"
        f'<h2 id="error-map">{h("Error map")}</h2>{_legend(located)}'
    )
    tail = (f"<h2>{h('Rejected features and warnings')}</h2>"
            f"{_table(problem_rows, [labels['Row'], labels['Key'], labels['Rule'], labels['Severity'], labels['Field'], labels['Message'], labels['Suggestion']])}"  # noqa: E501
            f"{more}")
    from gis_core.maps import render_parts

    parts = render_parts(fmap)  # the map's div goes under its heading, before the table
    return ('<!DOCTYPE html>\n<html lang="tr">\n<head>\n<meta charset="utf-8">\n'
            f"{parts.header}\n</head>\n<body>\n{body}\n{parts.html}\n{tail}\n"
            f"<script>\n{parts.script}\n</script>\n</body>\n</html>\n")


def _locations(report: BatchReport, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The flagged features' geometries (at most :data:`MAP_LIMIT`) with their row, key,
    codes and the rule whose colour they are drawn in (their first error, else warning)."""
    columns: dict[str, list[Any]] = {"row": [], "key": [], "codes": [], "rule": [], "colour": []}
    if not report.locations:
        return gpd.GeoDataFrame(columns, geometry=[], crs=settings.KENTCBS_SRID)
    geoms = pd.concat(report.locations)
    per: dict[int, list[str]] = {}  # a feature's codes, each once, errors first
    keys: dict[int, str] = {}
    ordered = table.sort_values("severity", kind="stable")  # "error" < "warning"
    for feature, key, code in ordered[["feature", "key", "code"]].drop_duplicates(
            ["feature", "code"]).itertuples(index=False, name=None):
        per.setdefault(int(feature), []).append(code)
        keys[int(feature)] = "" if key is None else str(key)
    geoms = geoms[geoms.index.isin(list(per))]
    geoms = geoms[~(geoms.isna() | geoms.is_empty)].head(MAP_LIMIT)
    features = [int(f) for f in geoms.index]
    rules = [per[f][0] for f in features]
    return gpd.GeoDataFrame({"row": [f + 1 for f in features],
                             "key": [keys.get(f, "") for f in features],
                             "codes": [", ".join(per[f]) for f in features], "rule": rules,
                             "colour": [rule_colour(r) for r in rules]},
                            geometry=geoms.to_numpy(), crs=geoms.crs)


def write_all(batch_id: int, report: BatchReport, *, crs: Any) -> dict[str, str]:
    """Write JSON, HTML and GeoPackage; return their paths (as strings)."""
    folder = batch_dir(batch_id)
    out = {"json": str(write_json(folder / "report.json", report)),
           "html": str(write_html(folder / "report.html", report))}
    if report._gpkg is not None:  # written by prepare()
        gpkg = report._gpkg[0]
    else:
        gpkg = write_gpkg(folder / "rejected.gpkg", report, crs=crs)
    out["gpkg"] = str(gpkg) if gpkg else ""
    return out
