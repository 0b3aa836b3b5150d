"""Reports laid out before the load's counts are known are the same as reports written
after it (the summary is filled in last)."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from etl import report as reports
from etl.validate import _problems

pytestmark = pytest.mark.django_db


def sample_report() -> reports.BatchReport:
    report = reports.BatchReport()
    report.diagnostics.append({"code": "UNKNOWN_COLUMNS", "severity": "warning",
                               "message": "Bilinmeyen / Unknown: \"x\"\n{y}", "params": {}})
    report.problems.append(_problems([3, 5], "RANGE", "error", field_name="kat_sayisi",
                                     value=["99", "0"], detail="1..60"))
    report.problems.append(_problems([5], "GEOM_INVALID", "error", detail=["Self-intersection"],
                                     suggestion=["POLYGON ((0 0, 1 0, 1 1, 0 0))"]))
    geoms = gpd.GeoSeries([shapely.box(500_000, 4_400_000, 500_020, 4_400_020)] * 2,
                          index=[3, 5], crs=5254)
    report.rejected.append(gpd.GeoDataFrame({"bina_no": ["B-3", "B-5"]}, geometry=geoms))
    report.locations.append(geoms)
    return report


def _same_html(text: str) -> str:
    return re.sub(r"[0-9a-f]{32}", "ID", text)  # folium's element ids differ per render


def test_prepared_pages_equal_pages_written_at_the_end(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    summary = {"batch": 1, "status": "loaded", "message": "çok \"iyi\"\n<b>", "read": 10,
               "loaded": 8, "sha256": "ab" * 32, "encoding": None}
    plain = sample_report()
    plain.summary = summary
    written = reports.write_all(900_001, plain, crs=CRS.from_epsg(5254))
    early = sample_report()
    early.prepare(900_002, crs=CRS.from_epsg(5254))
    assert early._pages is not None
    early.summary = summary
    prepared = reports.write_all(900_002, early, crs=CRS.from_epsg(5254))
    with open(written["json"], encoding="utf-8") as a, open(prepared["json"],
                                                           encoding="utf-8") as b:
        assert a.read() == b.read()
    with open(written["html"], encoding="utf-8") as a, open(prepared["html"],
                                                           encoding="utf-8") as b:
        first, second = a.read(), b.read()
    assert "kentcbs-summary" not in second and "\x00" not in second
    assert _same_html(first) == _same_html(second)


def test_diagnostics_added_after_prepare_are_written(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = sample_report()
    report.prepare(900_003, crs=CRS.from_epsg(5254))
    report.diagnostics.append({"code": "LATE", "severity": "warning", "message": "late",
                               "params": {}})
    report.summary = {"batch": 3}
    paths = reports.write_all(900_003, report, crs=CRS.from_epsg(5254))
    with open(paths["json"], encoding="utf-8") as handle:
        assert "LATE" in handle.read()
    with open(paths["html"], encoding="utf-8") as handle:
        assert "LATE" in handle.read()
