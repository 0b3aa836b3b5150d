"""Data-quality scores over time (issue 18 §5): the selector's numbers for batches made in
the test through the real ETL, against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from django.utils import timezone
from pyproj import Transformer

from etl.models import Batch
from etl.selectors import quality_scores
from etl.services import ingest
from etl.testing import ensure_departments
from tests.people import member, member_of

pytestmark = pytest.mark.django_db  # the test's transaction rolls cbs.bina back

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    from layers.codelists import load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_codelists()
    ensure_departments()


def send(tmp_path: Path, name: str, keys: range, *, department: str = "imar_sehircilik",
         too_high: tuple[int, ...] = (), tiny: tuple[int, ...] = (),
         dry_run: bool = False) -> Batch:
    """Buildings ``1000000000 + k``; those in ``too_high`` have 99 floors (RANGE), those in
    ``tiny`` a 1 m² footprint (BELOW_MIN_AREA)."""
    geoms = [shapely.box(X0 + k * 30, Y0, X0 + k * 30 + (1 if k in tiny else 20),
                         Y0 + (1 if k in tiny else 15)) for k in keys]
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame({
        "UAVT_BINA_KODU": [f"{1000000000 + k}" for k in keys],
        "Mahalle Adı": ["Yenidoğan"] * len(keys),
        "Kat Sayısı": [99 if k in too_high else 4 for k in keys],
        "KULLANIM": ["Konut"] * len(keys),
    }, geometry=geoms, crs=5254).to_file(path)
    return ingest(layer="bina", path=path, department=department, dry_run=dry_run)


def in_month(batch: Batch, year: int, month: int) -> None:
    Batch.objects.filter(pk=batch.pk).update(
        created=timezone.make_aware(dt.datetime(year, month, 15, 12)))


def test_scores_per_department_layer_and_month_match_the_hand_count(tmp_path):
    nov = send(tmp_path, "nov", range(20, 25), too_high=(21,))        # 5 read, 4 accepted
    dec1 = send(tmp_path, "dec1", range(0, 10), too_high=(2,), tiny=(5,))  # 10 read, 8
    dec2 = send(tmp_path, "dec2", range(40, 44))                       # 4 read, 4
    fen = send(tmp_path, "fen", range(60, 62), department="fen_isleri", too_high=(61,))
    dry = send(tmp_path, "dry", range(80, 90), too_high=(81, 82), dry_run=True)
    assert [b.status for b in (nov, dec1, dec2, fen, dry)] == ["loaded"] * 4 + ["dry_run"]
    for batch in (nov,):
        in_month(batch, 2026, 11)
    for batch in (dec1, dec2, fen, dry):
        in_month(batch, 2026, 12)
    Batch.objects.create(layer_code="bina", department="imar_sehircilik", file_name="undo",
                         sha256="", status="loaded", policy="undo", count_read=3,
                         count_loaded=3, undoes=dec2)  # an undo is not scored
    admin = member_of("cbs.admin", ("cbs", "gis_admin"))

    scores = quality_scores(user=admin, layer="bina")

    got = [(s.department, s.month, s.batches, s.features, s.accepted, s.problems)
           for s in scores]
    assert got == [
        ("imar_sehircilik", dt.date(2026, 11, 1), 1, 5, 4, {"RANGE": 1}),
        ("fen_isleri", dt.date(2026, 12, 1), 1, 2, 1, {"RANGE": 1}),
        ("imar_sehircilik", dt.date(2026, 12, 1), 2, 14, 12,
         {"RANGE": 1, "BELOW_MIN_AREA": 1}),
    ]
    nov_s, fen_s, dec_s = scores
    assert nov_s.share_accepted == pytest.approx(4 / 5)
    assert nov_s.per_thousand == {"RANGE": pytest.approx(200.0)}
    assert fen_s.share_accepted == pytest.approx(0.5)
    assert dec_s.share_accepted == pytest.approx(12 / 14)
    assert dec_s.per_thousand == {"BELOW_MIN_AREA": pytest.approx(1000 / 14),
                                  "RANGE": pytest.approx(1000 / 14)}
    # the department's own view, and a month range
    own = quality_scores(user=admin, department="imar_sehircilik",
                         since=dt.date(2026, 12, 1))
    assert [(s.layer, s.month, s.features) for s in own] == [
        ("bina", dt.date(2026, 12, 1), 14)]
    # who may not read the layer sees no score of it
    assert quality_scores(user=member("park.izleyici", "park_bahceler"), layer="bina") == []


def test_the_quality_page_shows_the_scores_and_exports_them(tmp_path):
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.people import signed_in

    dec = send(tmp_path, "dec", range(0, 10), too_high=(2,), tiny=(5,))     # 10 read, 8
    fen = send(tmp_path, "fen", range(60, 62), department="fen_isleri", too_high=(61,))
    in_month(dec, 2026, 12)
    in_month(fen, 2026, 12)
    admin = signed_in(member_of("cbs.admin", ("cbs", "gis_admin")))

    page = admin.get("/reports/quality/?layer=bina")

    assert page.status_code == 200
    html = page.content.decode()
    assert "%80,0" in html and "%50,0" in html  # 8 of 10; 1 of 2 (Turkish decimal comma)
    assert "<code>RANGE</code> 100,0" in html and "<code>RANGE</code> 500,0" in html
    book = load_workbook(BytesIO(admin.get("/reports/quality/?layer=bina&format=xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    header = rows[0]
    got = {(r[1], r[3], r[4], r[5]): dict(zip(header[7:], r[7:], strict=True)) for r in rows[1:]}
    assert got == {
        ("imar_sehircilik", 1, 10, 8): {"BELOW_MIN_AREA / 1000": 100.0, "RANGE / 1000": 100.0},
        ("fen_isleri", 1, 2, 1): {"BELOW_MIN_AREA / 1000": 0.0, "RANGE / 1000": 500.0},
    }
    # a clerk sees their own department's report card only
    clerk = signed_in(member("fen.katip", "fen_isleri", "data_entry"))
    own = clerk.get("/reports/quality/").content.decode()
    assert "fen_isleri" in own and "imar_sehircilik" not in own


def test_trend_charts_failing_rules_and_menu_match_the_hand_count(tmp_path):
    """imar_sehircilik into bina: November 5 read, 4 accepted (80 %); December 10 + 4 read,
    8 + 4 accepted (12/14 = 85.7 %). fen_isleri: December 2 read, 1 accepted (50 %).
    Over the 21 features: RANGE 3 times (142.9 per 1,000), BELOW_MIN_AREA once (47.6)."""
    import re

    from tests.people import signed_in

    nov = send(tmp_path, "nov", range(20, 25), too_high=(21,))
    dec1 = send(tmp_path, "dec1", range(0, 10), too_high=(2,), tiny=(5,))
    dec2 = send(tmp_path, "dec2", range(40, 44))
    fen = send(tmp_path, "fen", range(60, 62), department="fen_isleri", too_high=(61,))
    in_month(nov, 2026, 11)
    for batch in (dec1, dec2, fen):
        in_month(batch, 2026, 12)
    admin = signed_in(member_of("cbs.admin", ("cbs", "gis_admin")))

    html = admin.get("/reports/quality/?layer=bina").content.decode()

    def columns(department: str) -> list[str]:
        figure = re.search(rf'<figure class="trend" data-department="{department}" '
                           rf'data-layer="bina">(.*?)</figure>', html, re.S)
        assert figure is not None, department
        return re.findall(r'<rect [^>]*data-value="([^"]+)"', figure.group(1))

    assert columns("imar_sehircilik") == ["80", "85.7"]  # November, then December
    assert columns("fen_isleri") == ["50"]
    rules = re.findall(r'<tr data-rule="(\w+)"><td><code>\w+</code></td>'
                       r'<td class="num">(\d+)</td><td class="num">([\d,]+)</td>', html)
    assert rules == [("RANGE", "3", "142,9"), ("BELOW_MIN_AREA", "1", "47,6")]
    chart = re.search(r'<div id="rules-chart">(.*?)</div>', html, re.S).group(1)
    assert re.findall(r'data-value="([^"]+)"', chart) == ["142.9", "47.6"]
    assert 'id="nav-quality"' in html  # the GIS unit's menu entry
    # the department filter: one department's report card, its rules only
    card = admin.get("/reports/quality/?department=fen_isleri").content.decode()
    assert 'id="report-card"' in card
    assert re.findall(r'<tr data-rule="(\w+)">', card) == ["RANGE"]
    assert 'data-department="imar_sehircilik"' not in card
    # a clerk: their own report card without asking, no menu entry for the whole page
    clerk = signed_in(member("fen.katip2", "fen_isleri", "data_entry"))
    own = clerk.get("/reports/quality/").content.decode()
    assert 'id="report-card"' in own and 'id="nav-quality"' not in own
    assert re.findall(r'<figure class="trend" data-department="(\w+)"', own) == ["fen_isleri"]
    manager = signed_in(member("park.mudur", "park_bahceler", "manager"))
    assert 'id="nav-quality"' in manager.get("/").content.decode()
