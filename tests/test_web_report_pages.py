"""Report pages a clerk can work through (issue 18 §6): the problem table filtered by rule
and by field with counts that match and pages that keep the filter, and the rejected
GeoPackage that keeps every column of the file as it was sent, beside the reasons."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from django.db import connection
from pyproj import Transformer

from tests.people import signed_in
from tests.test_web_reports import _bad_batch, _user, media  # noqa: F401

pytestmark = pytest.mark.django_db

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


def shown_rows(html: str) -> list[tuple[str, str, str]]:
    """(row, rule, field) of the problem table's rows."""
    return re.findall(r'<tr class="severity-\w+" data-row="(\d+)" data-rule="(\w+)" '
                      r'data-field="(\w*)">', html)


def test_problem_table_filters_by_rule_and_field_with_matching_counts(
        media, tmp_path, monkeypatch) -> None:  # noqa: F811
    """The bad park file: CODELIST on rows 5 and 8 (field ``tur``), GEOM_INVALID on row 6,
    REQUIRED on row 7 (field ``ad``)."""
    from web import reports

    sender = _user("gonderen", "park_bahceler")
    batch = _bad_batch(tmp_path, sender)
    client = signed_in(sender)
    url = f"/reports/{batch.pk}/"

    everything = shown_rows(client.get(url).content.decode())
    errors = [(row, rule, field) for row, rule, field in everything
              if rule in ("CODELIST", "GEOM_INVALID", "REQUIRED")]
    assert errors == [("5", "CODELIST", "tur"), ("6", "GEOM_INVALID", ""),
                      ("7", "REQUIRED", "ad"), ("8", "CODELIST", "tur")]

    html = client.get(url, {"rule": "CODELIST"}).content.decode()
    assert shown_rows(html) == [("5", "CODELIST", "tur"), ("8", "CODELIST", "tur")]
    assert re.search(r'<p id="problem-count">2 nesnede 2 sorun', html)
    assert '<option value="CODELIST" selected>' in html

    html = client.get(url, {"field": "ad"}).content.decode()
    ad_rows = shown_rows(html)
    assert ("7", "REQUIRED", "ad") in ad_rows and all(f == "ad" for _r, _c, f in ad_rows)
    count = re.search(r'<p id="problem-count">(\d+) nesnede (\d+) sorun', html)
    assert count is not None and count.groups() == (str(len({r for r, _c, _f in ad_rows})),
                                                    str(len(ad_rows)))

    html = client.get(url, {"rule": "CODELIST", "field": "ad"}).content.decode()
    assert shown_rows(html) == [] and '<p id="problem-count">0 nesnede 0 sorun' in html
    # a rule the report does not have is no filter (not an empty table)
    assert shown_rows(client.get(url, {"rule": "NO_SUCH"}).content.decode()) == everything

    # paging keeps the filter: one problem a page
    monkeypatch.setattr(reports, "PROBLEMS_PER_PAGE", 1)
    first = client.get(url, {"rule": "CODELIST"}).content.decode()
    assert shown_rows(first) == [("5", "CODELIST", "tur")]
    assert "Sayfa 1 / 2 (2 sorun)" in first
    following = re.search(r'<a rel="next" href="\?([^"#]+)#', first)
    assert following is not None
    assert following.group(1).replace("&amp;", "&") == "rule=CODELIST&page=2"
    second = client.get(f"{url}?rule=CODELIST&page=2").content.decode()
    assert shown_rows(second) == [("8", "CODELIST", "tur")]
    assert '<a rel="next"' not in second


def clean_buildings() -> None:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM cbs.bina WHERE uavt_bina_kodu LIKE '97100%'")


def test_rejected_geopackage_keeps_every_column_as_sent(media, tmp_path) -> None:  # noqa: F811
    """A department's building file: mapped columns under its own names, columns the
    standard does not have, Turkish letters in names; two features rejected."""
    from etl.services import ingest

    clean_buildings()
    n = 5
    sent = gpd.GeoDataFrame({
        "uavt_kodu": [f"97100000{i:02d}" for i in range(n)],
        "Mahalle Adı": ["Yenidoğan"] * n,
        "kat": [3, 99, 4, 5, 2],                       # row 2: RANGE
        "KULLANIM_AMACI": ["Konut"] * n,
        "Açıklama": [f"not {i}" for i in range(n)],    # not in the standard
        "ekip_no": np.arange(n, dtype=np.int64) + 10,  # not in the standard
    }, geometry=[shapely.MultiPolygon([shapely.box(X0 + i * 30, Y0, X0 + i * 30 + size,
                                                   Y0 + size)])
                 for i, size in enumerate([15, 15, 15, 15, 1])], crs=5254)  # row 5: 1 m²
    path = tmp_path / "binalar.gpkg"
    sent.to_file(path)
    try:
        batch = ingest(layer="bina", path=path, department="imar_sehircilik", mapping={
            "uavt_kodu": "uavt_bina_kodu", "Mahalle Adı": "mahalle_adi", "kat": "kat_sayisi",
            "KULLANIM_AMACI": "kullanim"})
    finally:
        clean_buildings()
    assert (batch.count_loaded, batch.count_rejected) == (3, 2), batch.message

    client = signed_in(_user("imar.katip", "imar_sehircilik"))
    response = client.get(f"/reports/{batch.pk}/rejected.gpkg")
    assert response.status_code == 200
    got_path = tmp_path / "geri.gpkg"
    got_path.write_bytes(b"".join(response.streaming_content))
    got = pyogrio.read_dataframe(got_path)

    original = [c for c in sent.columns if c != "geometry"]
    assert [c for c in got.columns if not c.startswith("kentcbs_") and c != "geometry"] \
        == original  # every column, in the file's order, under its own name
    assert {"kentcbs_row", "kentcbs_codes", "kentcbs_errors_tr",
            "kentcbs_errors_en"} <= set(got.columns)
    got = got.sort_values("kentcbs_row").reset_index(drop=True)
    assert got["kentcbs_row"].tolist() == [2, 5]
    assert got["kentcbs_codes"].tolist() == ["RANGE", "BELOW_MIN_AREA"]
    expected = sent.iloc[[1, 4]].reset_index(drop=True)
    for column in original:
        assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    assert got.crs.to_epsg() == 5254
    assert shapely.equals_exact(got.geometry.to_numpy(), expected.geometry.to_numpy(),
                                tolerance=0.001).all()
