"""Batch reports: JSON for machines, an HTML page for people, a GeoPackage for QGIS.

All three are written under ``MEDIA_ROOT/etl/batches/<id>/``. The HTML page
loads Leaflet from the app's own static files (``leaflet/``, shipped by the
django-leaflet package): no CDN, no
public tile server, no external URL at all.
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


def _json_text(report: BatchReport, summary: Any) -> str:
    table = report.rendered()
    payload = {"summary": summary, "diagnostics": report.diagnostics,
               "counts": counts(table),
               "problems": json.loads(table.to_json(orient="records", force_ascii=False))}
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
    for feature, code, tr, en, hint in errors[["feature", "code", "message_tr", "message_en",
                                               "suggestion"]].itertuples(index=False, name=None):
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
    out.insert(0, "kentcbs_feature", out.index.to_numpy())
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            out[column] = out[column].astype("string")
    out.to_file(path, driver="GPKG", layer="rejected")
    return path


def problem_map(locations: gpd.GeoDataFrame) -> folium.Map:
    """A folium map of problem locations, with Leaflet from the app's static files only."""
    import folium  # here, not at import: ~0.25 s that `kentcbs ingest` paid before its load

    from gis_core.maps import OfflineMap

    fmap = OfflineMap(tiles=None, control_scale=True, prefer_canvas=True)
    if len(locations):
        shown = locations.to_crs(4326)
        minx, miny, maxx, maxy = shown.total_bounds
        folium.GeoJson(
            shown, name="problems",
            marker=folium.CircleMarker(radius=5, color="#c0392b", fill=True, fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=["kentcbs_feature", "codes"]),
        ).add_to(fmap)
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


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
    import folium

    table = report.rendered()
    with translation.override("tr"):
        labels = {k: gettext(k) for k in (
            "Validation report", "Summary", "Problems per rule", "Problems per field",
            "Rejected features and warnings", "Problem locations", "Rule", "Severity",
            "Field", "Count", "Feature", "Message", "Suggestion", "Diagnostics")}
    summary_html = summary if isinstance(summary, str) else _summary_table(summary)
    per_rule = counts(table)
    rule_rows = [[r["code"], r["severity"], r["count"]] for r in per_rule["by_rule"]]
    field_rows = [[r["field"], r["code"], r["count"]] for r in per_rule["by_field"]]
    listed = table.sort_values(["feature", "severity"]).head(HTML_ROW_LIMIT)
    problem_rows = [[r.feature, r.code, r.severity, r.field, f"{r.message_tr} / {r.message_en}",
                     r.suggestion or ""] for r in listed.itertuples(index=False)]
    diag_rows = [[d["code"], d["severity"], d["message"]] for d in report.diagnostics]
    points = _locations(report, table)
    fmap = problem_map(points)

    def h(key: str) -> str:
        en = key
        tr = labels[key]
        return html.escape(tr if tr == en else f"{tr} / {en}")

    more = (f"<p>… {len(table) - HTML_ROW_LIMIT}</p>" if len(table) > HTML_ROW_LIMIT else "")
    body = (
        "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;"
        "margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
        ".folium-map{height:480px!important;position:relative!important}</style>"
        f"<h1>{h('Validation report')}</h1>"
        f"<h2>{h('Summary')}</h2>{summary_html}"
        + (f"<h2>{h('Diagnostics')}</h2>{_table(diag_rows, [h('Rule'), h('Severity'), ''])}"
           if diag_rows else "")
        + f"<h2>{h('Problems per rule')}</h2>"
        f"{_table(rule_rows, [labels['Rule'], labels['Severity'], labels['Count']])}"
        f"<h2>{h('Problems per field')}</h2>"
        f"{_table(field_rows, [labels['Field'], labels['Rule'], labels['Count']])}"
        f"<h2>{h('Problem locations')}</h2>"
    )
    root: Any = fmap.get_root()
    root.header.add_child(folium.Element('<meta charset="utf-8">'), name="charset_meta")
    root.html.add_child(folium.Element(body), index=0)
    tail = (f"<h2>{h('Rejected features and warnings')}</h2>"
            f"{_table(problem_rows, [labels['Feature'], labels['Rule'], labels['Severity'], labels['Field'], labels['Message'], labels['Suggestion']])}"  # noqa: E501
            f"{more}")
    root.html.add_child(folium.Element(tail))
    return str(root.render())


def _locations(report: BatchReport, table: pd.DataFrame) -> gpd.GeoDataFrame:
    if not report.locations:
        return gpd.GeoDataFrame({"kentcbs_feature": [], "codes": []}, geometry=[],
                                crs=settings.KENTCBS_SRID)
    geoms = pd.concat(report.locations)
    per: dict[int, list[str]] = {}  # a feature's codes, each once, in the table's order
    for feature, code in table[["feature", "code"]].drop_duplicates().itertuples(
            index=False, name=None):
        per.setdefault(int(feature), []).append(code)
    codes = pd.Series({f: ",".join(c) for f, c in per.items()})
    geoms = geoms[geoms.index.isin(codes.index)]
    geoms = geoms[~(geoms.isna() | geoms.is_empty)].head(MAP_LIMIT)
    pts = shapely.centroid(np.asarray(geoms.to_numpy(), dtype=object))
    return gpd.GeoDataFrame({"kentcbs_feature": geoms.index.to_numpy(),
                             "codes": codes.reindex(geoms.index).to_numpy()},
                            geometry=pts, crs=geoms.crs)


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
