"""The map tools: identify, attribute table and export, print to PDF, generalised tiles.

A street and a park are loaded through the ETL (``etl.services.ingest``) as a
department would upload them; assets come from the demo. The browser test runs a
real headless Chromium at desktop (1440×900) and phone (390×844) size.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_core.demo import load_demo
from gis_core.models import Asset
from tests.people import member, signed_in

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
STREET = "Deneme"
PARK = "Deneme Parkı"


def _load_street_and_park(tmp_path: Path) -> dict[str, Any]:
    """A street and a park near the municipality's centre, uploaded through the ETL."""
    import geopandas as gpd
    from django.conf import settings
    from pyproj import Transformer
    from shapely.geometry import LineString, box

    from etl.services import ingest
    from gis_core.maps import municipality_centre

    lon, lat = municipality_centre()
    srid = int(settings.KENTCBS_SRID)
    to_tm = Transformer.from_crs(4326, srid, always_xy=True)
    to_wgs = Transformer.from_crs(srid, 4326, always_xy=True)
    cx, cy = to_tm.transform(lon, lat)
    street = LineString([(cx - 150, cy + 300), (cx + 150, cy + 300)])
    park = box(cx + 200, cy - 260, cx + 260, cy - 200)
    gpd.GeoDataFrame({"yol_kodu": ["990001", "990002"], "yol_adi": [STREET, "Başka"],
                      "yol_tipi": ["Cadde", "Sokak"], "genislik_m": [20.0, 8.0]},
                     geometry=[street, LineString([(cx - 150, cy + 600), (cx + 150, cy + 600)])],
                     crs=srid).to_file(tmp_path / "yol.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"yesil_alan_kodu": ["YA-9901"], "ad": [PARK], "tur": ["Park"],
                      "sulama_sistemi": [True]}, geometry=[park], crs=srid).to_file(
        tmp_path / "park.geojson", driver="GeoJSON")
    for layer, name, department in (("yol", "yol.geojson", "fen_isleri"),
                                    ("yesil_alan", "park.geojson", "park_bahceler")):
        batch = ingest(layer=layer, path=tmp_path / name, department=department)
        assert batch.count_loaded >= 1, (layer, batch.reason_code, batch.message)
    street_mid = to_wgs.transform(cx, cy + 300)
    park_mid = to_wgs.transform(cx + 230, cy - 230)
    asset = (Asset.objects.filter(location__isnull=False).exclude(assigned_person="")
             .order_by("inventory_number").first())
    point = asset.location.transform(4326, clone=True)
    return {"street": street_mid, "park": park_mid, "asset": (point.x, point.y),
            "inventory": asset.inventory_number, "person": asset.assigned_person}


@pytest.fixture
def town(tmp_path: Path) -> dict[str, Any]:
    load_demo(profile="odunpazari", modules=False, city=False)
    return _load_street_and_park(tmp_path)


def _identify(client: Any, lonlat: tuple[float, float], zoom: int = 19,
              layers: str | None = None) -> dict[str, Any]:
    url = f"/map/identify.json?lon={lonlat[0]:.7f}&lat={lonlat[1]:.7f}&zoom={zoom}"
    if layers is not None:
        url += f"&layers={layers}"
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def _layer(data: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((item for item in data["layers"] if item["code"] == code), None)


@pytest.mark.django_db
def test_identify_json_lists_every_readable_layer_with_its_permitted_fields(town) -> None:
    from ogc_api.models import AccessLog

    technician = signed_in(member("tekniker", "bilgi_islem", "technician"))
    clerk = signed_in(member("katip", "imar_sehircilik", "manager"))
    outsider = signed_in(member("izleyici", "zabita", "viewer"))

    street = _layer(_identify(technician, town["street"]), "yol")
    assert street and street["features"][0]["properties"]["yol_adi"] == STREET
    assert {"name": "yol_tipi", "title": "Yol tipi", "value": "Cadde",
            "label": "Cadde"} in street["features"][0]["fields"]
    park = _layer(_identify(technician, town["park"]), "yesil_alan")
    assert park and park["features"][0]["properties"]["ad"] == PARK
    # Only the visible layers asked for answer.
    assert _identify(technician, town["park"], layers="yol")["layers"] == []

    before = AccessLog.objects.filter(layer="bt_varlik", via="web").count()
    with CaptureQueriesContext(connection) as queries:
        answer = _identify(technician, town["asset"])
    asset = _layer(answer, "bt_varlik")
    assert asset is not None
    found = next(f for f in asset["features"]
                 if f["properties"]["demirbas_no"] == town["inventory"])
    assert found["properties"]["zimmetli_kisi"] == town["person"]
    assert AccessLog.objects.filter(layer="bt_varlik", via="web").count() == before + 1
    # One statement per layer, each through the spatial index's operator (&&).
    spatial = [q["sql"] for q in queries.captured_queries if "ST_DWithin" in q["sql"]]
    assert spatial and all("&&" in text for text in spatial)
    assert len(spatial) == len({text.split(" FROM ")[1].split(",")[0] for text in spatial})

    # A clerk who reads assets (a manager elsewhere) gets no personal field.
    clerk_asset = _layer(_identify(clerk, town["asset"]), "bt_varlik")
    assert clerk_asset is not None
    clerk_found = next(f for f in clerk_asset["features"]
                       if f["properties"]["demirbas_no"] == town["inventory"])
    assert "zimmetli_kisi" not in clerk_found["properties"]
    assert town["person"] not in json.dumps(clerk_asset)
    # Someone who may not read the asset layer does not learn the asset is there.
    assert _layer(_identify(outsider, town["asset"]), "bt_varlik") is None
    assert _layer(_identify(outsider, town["street"]), "yol") is not None
    # Bad input is a 400 with a code, not a traceback.
    bad = technician.get("/map/identify.json?lon=abc&lat=1&zoom=3")
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_POINT"


@pytest.mark.django_db
def test_identify_tolerance_is_pixels_at_the_zoom(town) -> None:
    from web.layer_reads import tolerance_metres

    technician = signed_in(member("tekniker", "bilgi_islem", "technician"))
    lon, lat = town["street"]
    # 25 m north of the street: a click at zoom 12 (6 px ≈ 140 m) finds it, at 19 (≈1 m) not.
    north = (lon, lat + 25 / 111_320)
    assert _layer(_identify(technician, north, zoom=12, layers="yol"), "yol") is not None
    assert _layer(_identify(technician, north, zoom=19, layers="yol"), "yol") is None
    assert tolerance_metres(lat=lat, zoom=19) < 1.5 < 100 < tolerance_metres(lat=lat, zoom=12)


@pytest.mark.django_db
def test_export_what_the_table_filters_as_csv_xlsx_and_gpkg(town, tmp_path) -> None:
    import openpyxl
    import pyogrio

    from ogc_api.models import AccessLog

    technician = signed_in(member("tekniker", "bilgi_islem", "technician"))
    clerk = signed_in(member("katip", "imar_sehircilik", "manager"))
    flt = f"yol_adi LIKE '{STREET[:4]}%' AND genislik_m > 10"

    response = technician.get("/layers/yol/export.csv", {"filter": flt})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["yol_adi"] for row in rows] == [STREET]
    assert rows[0]["wkt_epsg_5254"].startswith("MULTILINESTRING")

    response = technician.get("/layers/yol/export.xlsx", {"filter": flt})
    assert response.status_code == 200
    path = tmp_path / "yol.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    sheet = openpyxl.load_workbook(path, read_only=True).active
    values = list(sheet.values)
    assert "Yol adı" in values[0] and len(values) == 2 and STREET in values[1]

    response = technician.get("/layers/yol/export.gpkg", {"filter": flt})
    assert response.status_code == 200
    path = tmp_path / "yol.gpkg"
    path.write_bytes(b"".join(response.streaming_content))
    frame = pyogrio.read_dataframe(path)
    assert list(frame["yol_adi"]) == [STREET] and frame.crs.to_epsg() == 5254
    assert frame.geometry.iloc[0].length == pytest.approx(300, abs=0.5)

    # Everything when there is no filter; a bad filter or field is a 400 with a code.
    everything = technician.get("/layers/yol/export.gpkg")
    path.write_bytes(b"".join(everything.streaming_content))
    assert len(pyogrio.read_dataframe(path)) == 2
    bad = technician.get("/layers/yol/export.csv", {"filter": "nosuchfield = 1"})
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_FILTER"
    assert technician.get("/layers/yol/export.pdf").status_code == 404

    # Assets: the clerk's file has no personal column; reads are logged.
    before = AccessLog.objects.filter(layer="bt_varlik", via="web").count()
    response = clerk.get("/layers/bt_varlik/export.csv",
                         {"filter": f"demirbas_no = '{town['inventory']}'"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "zimmetli_kisi" not in text.splitlines()[0] and town["person"] not in text
    assert town["inventory"] in text
    assert AccessLog.objects.filter(layer="bt_varlik", via="web").count() == before + 1
    outsider = signed_in(member("izleyici", "zabita", "viewer"))
    assert outsider.get("/layers/bt_varlik/export.csv").status_code == 404


@pytest.mark.django_db
def test_xlsx_export_of_100000_rows_streams_from_a_server_side_cursor(town) -> None:
    """The export reads its rows in chunks (a named cursor) and writes a write-only book."""
    from ogc_api.selectors import layer_view
    from web import exports, layer_reads

    technician = member("tekniker", "bilgi_islem", "technician")
    view = layer_view(user=technician, code="yol")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO cbs.yol (yol_kodu, yol_adi, yol_tipi, geom) SELECT "
                       "(800000 + i)::text, 'Toplu ' || i, 'Sokak', ST_Multi(ST_Translate(geom,"
                       " 0, i)) FROM generate_series(1, 100000) AS i, (SELECT geom FROM cbs.yol "
                       "WHERE yol_adi = %s) AS g", [STREET])
    where, _text = exports.export_where(view, _query(""))
    sizes = [len(chunk) for chunk in layer_reads.export_rows(view, where, chunk=5000)]
    assert sum(sizes) == 100_002 and max(sizes) == 5000
    import tracemalloc

    tracemalloc.start()
    try:
        path = Path(exports.write_xlsx(view, where, lang="tr"))
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 100,000 rows held at once would take well over 100 MB of Python objects.
    assert peak < 50 * 1024 * 1024, peak
    try:
        import openpyxl

        sheet = openpyxl.load_workbook(path, read_only=True).active
        assert sum(1 for _row in sheet.iter_rows(values_only=True)) == 100_003
    finally:
        path.unlink()


def _query(text: str) -> Any:
    from django.http import QueryDict

    return QueryDict(text)


@pytest.mark.django_db
def test_print_pdf_has_title_legend_scale_and_imprint(town, artifacts_dir) -> None:
    from pypdf import PdfReader

    technician = signed_in(member("tekniker", "bilgi_islem", "technician"))
    lon, lat = town["park"]
    bbox = f"{lon - 0.006:.6f},{lat - 0.004:.6f},{lon + 0.006:.6f},{lat + 0.008:.6f}"
    response = technician.get("/map/print.pdf", {
        "bbox": bbox, "layers": "yol,yesil_alan,bt_varlik,mahalle", "paper": "A4",
        "orientation": "portrait", "title": "Deneme Paftası"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    page = reader.pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 210
    text = page.extract_text()
    assert "Deneme" in text.replace("Deneme Paftası", "")  # the street's name label
    # A title is text, never TeX: dollar signs print as they are.
    priced = technician.get("/map/print.pdf", {"bbox": bbox, "layers": "yol",
                                               "title": "Bütçe $5 ve $x^2$ {"})
    assert "Bütçe $5 ve $x^2$ {" in PdfReader(io.BytesIO(priced.content)).pages[0].extract_text()
    for words in ("Deneme Paftası", "Yol Orta Hatları", "Park ve Yeşil Alanlar", "BT Varlıkları",
                  "Mahalle Sınırları", "Ölçek", "tekniker", "EPSG:5254", "Odunpazarı"):
        assert words in text, (words, text)
    assert response["X-Map-Scale"].startswith("1:")
    (artifacts_dir / "print-a4.pdf").write_bytes(response.content)
    # The same page as a picture, to look at (test-artifacts/).
    from ogc_api.selectors import layer_views
    from web import printing, views_tools

    views = layer_views(user=response.wsgi_request.user)
    name, boundary = views_tools._municipality()
    picture, _scale = printing.render_pdf(printing.PrintRequest(
        bbox=tuple(float(n) for n in bbox.split(",")),  # type: ignore[arg-type]
        layers=[views[c] for c in ("mahalle", "yesil_alan", "yol", "bt_varlik")],
        paper="A4", landscape=False, title="Deneme Paftası", user="tekniker",
        municipality=name, srid=5254, lang="tr", boundary_wkb=boundary), fmt="png")
    (artifacts_dir / "print-a4.png").write_bytes(picture)
    # A layer the caller may not read is left out (not drawn, not in the legend).
    outsider = signed_in(member("izleyici", "zabita", "viewer"))
    text = PdfReader(io.BytesIO(outsider.get("/map/print.pdf", {
        "bbox": bbox, "layers": "yol,bt_varlik", "paper": "A3", "orientation": "landscape",
        "title": "X"}).content)).pages[0].extract_text()
    assert "Yol Orta Hatları" in text and "BT Varlıkları" not in text
    assert technician.get("/map/print.pdf", {"bbox": "1,2,3"}).status_code == 400


def _click(page: Any, lonlat: tuple[float, float]) -> None:
    point = page.evaluate("([lat, lon]) => { var m = window.kentcbsMap; var p = "
                          "m.latLngToContainerPoint([lat, lon]); var r = m.getContainer()"
                          ".getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }",
                          [lonlat[1], lonlat[0]])
    page.mouse.click(point[0], point[1])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_map_tools_in_a_browser(live_server, artifacts_dir, tmp_path, size) -> None:
    import openpyxl
    import pyogrio
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    load_demo(profile="odunpazari", modules=False, city=False)
    town = _load_street_and_park(tmp_path)
    user = member("haritaci", "bilgi_islem", "technician")
    user.set_password("x-Test-12345")
    user.save()
    width, height = size
    phone = width < 700
    shot = "phone" if phone else "desktop"
    external: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda r: None if r.url.startswith(live_server.url)
                or r.url.startswith(("data:", "blob:")) else external.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "haritaci")
        page.fill("#id_password", "x-Test-12345")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        lon, lat = town["street"]
        page.goto(f"{live_server.url}/map/#map=18/{lat:.6f}/{lon:.6f}"
                  "&layers=mahalle,yol,yesil_alan,bt_varlik,bina_hizmet")
        page.wait_for_selector("body[data-map-ready='1']")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / f"{shot}-1-map.png"))

        # Layout: the map fills the screen, nothing scrolls sideways.
        box = page.locator("#mapbox").bounding_box()
        assert box["width"] * box["height"] >= 0.7 * width * height or not phone
        if phone:
            assert box["height"] >= 0.7 * height and box["width"] >= width - 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.is_visible("#drawer-toggle") == phone
        # A drawer, closed (off screen, hidden from keyboard and screen reader), on a phone.
        assert page.evaluate("document.querySelector('#side').getBoundingClientRect().right"
                             " <= 0") == phone
        assert page.is_visible("#side") != phone

        # Identify a street, a park and an asset.
        for name, lonlat, code, zoom in (("street", town["street"], "yol", 18),
                                         ("park", town["park"], "yesil_alan", 18),
                                         ("asset", town["asset"], "bt_varlik", 19)):
            page.evaluate("([lat, lon, z]) => window.kentcbsMap.setView([lat, lon], z, "
                          "{animate: false})", [lonlat[1], lonlat[0], zoom])
            page.wait_for_load_state("networkidle")
            _click(page, lonlat)
            page.wait_for_selector(f"#identify .identified[data-layer={code}]", state="attached")
            if phone:  # the drawer opens itself on the answer
                page.wait_for_function("document.querySelector('#side').getBoundingClientRect()"
                                       ".left >= 0")
            assert page.locator(f"#identify .identified[data-layer={code}]").is_visible()
            page.screenshot(path=str(artifacts_dir / f"{shot}-2-identify-{name}.png"))
            if phone:
                page.click("#drawer-close")
                page.wait_for_function("document.querySelector('#side').getBoundingClientRect()"
                                       ".right <= 0")
        assert town["inventory"] in page.inner_text("#identify")
        assert "sel=bt_varlik" in page.url  # the permalink names the selected feature

        # The street's attribute table: filter, page, export.
        if phone:
            page.click("#drawer-toggle")
        page.click(".open-table[data-table=yol]")
        page.wait_for_selector("body[data-table-loaded^='yol:0:']")
        page.select_option("#filter-field", "yol_adi")
        page.select_option("#filter-op", "LIKE")
        page.fill("#filter-value", STREET[:4])
        page.click("#table-filter button:not([type=button])")
        page.wait_for_function("document.querySelectorAll('#attr-table tbody tr').length === 1")
        assert STREET in page.inner_text("#attr-table tbody")
        page.click("#attr-table tbody tr")
        page.screenshot(path=str(artifacts_dir / f"{shot}-3-table.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        files = {}
        for fmt in ("csv", "xlsx", "gpkg"):
            with page.expect_download() as download:
                page.click(f"#export-{fmt}")
            files[fmt] = tmp_path / f"export.{fmt}"
            download.value.save_as(files[fmt])
        rows = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
        assert [row["yol_adi"] for row in rows] == [STREET]
        assert len(list(openpyxl.load_workbook(files["xlsx"], read_only=True).active.values)) == 2
        assert list(pyogrio.read_dataframe(files["gpkg"])["yol_adi"]) == [STREET]
        page.click("#table-close")

        # Measure from the street to the park (230 m east, 530 m south in the TM zone).
        if phone:
            page.click("#drawer-toggle")
        page.click("#measure-line")
        page.evaluate("""([a, b]) => { window.kentcbsMeasure.add(a[1], a[0]);
                         window.kentcbsMeasure.add(b[1], b[0]); }""",
                      [town["street"], town["park"]])
        metres = float(page.get_attribute("#measure-out", "data-metres"))
        assert metres == pytest.approx(math.hypot(230, 530), abs=0.5)  # TM zone metres

        # Print: the button opens the PDF of the view with the visible layers' legend.
        page.fill("#print-title", "Tarayıcı Paftası")
        with context.expect_event("request", predicate=lambda r: "/map/print.pdf" in r.url
                                  ) as asked:
            page.click("#print-button")
        pdf_url = asked.value.url
        assert "/map/print.pdf?" in pdf_url and "paper=A4" in pdf_url
        pdf = context.request.get(pdf_url)
        (artifacts_dir / f"{shot}-5-print.pdf").write_bytes(pdf.body())
        text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
        for words in ("Tarayıcı Paftası", "Yol Orta Hatları", "Park ve Yeşil Alanlar"):
            assert words in text
        for other in context.pages[1:]:
            other.close()
        page.screenshot(path=str(artifacts_dir / f"{shot}-4-tools.png"))

        # The permalink reopens the same view with the same layers.
        link = page.url
        page.goto(f"{live_server.url}/")
        page.goto(link)
        page.wait_for_selector("body[data-map-ready='1']")
        assert page.is_checked("input[data-layer=yesil_alan]")
        assert not page.is_checked("input[data-layer=ag_baglanti]")
        browser.close()
    assert external == []
    assert errors == []


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad column and row of a WGS84 point."""
    import math

    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _footprints(tmp_path: Path, name: str, lon: float, lat: float, count: int,
                first_code: int) -> None:
    """``count`` small footprints on a 20 m grid from a WGS84 corner, loaded through the ETL."""
    import geopandas as gpd
    from django.conf import settings
    from pyproj import Transformer
    from shapely.geometry import box

    from etl.services import ingest
    from gis_core.models import Neighbourhood

    srid = int(settings.KENTCBS_SRID)
    x0, y0 = Transformer.from_crs(4326, srid, always_xy=True).transform(lon, lat)
    side = max(1, int(count ** 0.5))
    geoms = [box(x0 + (i % side) * 20, y0 + (i // side) * 20, x0 + (i % side) * 20 + 12,
                 y0 + (i // side) * 20 + 12) for i in range(count)]
    neighbourhood = Neighbourhood.objects.order_by("name").first().name
    gpd.GeoDataFrame({"uavt_bina_kodu": [str(first_code + i) for i in range(count)],
                      "mahalle_adi": [neighbourhood] * count, "kat_sayisi": [2] * count,
                      "kullanim": ["Konut"] * count}, geometry=geoms, crs=srid).to_file(
        tmp_path / name, driver="GeoJSON")
    batch = ingest(layer="bina", path=tmp_path / name, department="imar_sehircilik")
    assert batch.count_loaded == count, (batch.reason_code, batch.message)


@pytest.mark.django_db
def test_dense_polygon_layer_is_drawn_generalised_below_its_detail_zoom(town, tmp_path) -> None:
    """Zoomed out, a footprint layer is its built-up outline, rebuilt after each load."""
    import mapbox_vector_tile

    from layers.registry import registry
    from ogc_api import generalise

    layer = registry.get("bina")
    assert generalise.applies(layer, None) and generalise.lowest_zoom(layer) == 10
    lon, lat = town["park"]
    _footprints(tmp_path, "a.geojson", lon, lat, 400, 7_000_000_000)
    client = signed_in(member("imarci", "imar_sehircilik", "viewer"))
    x, y = _tile(lon + 0.001, lat + 0.001, 13)
    response = client.get(f"/ogc/collections/bina/tiles/WebMercatorQuad/13/{y}/{x}")
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content)["bina"]["features"]
    # Hundreds of footprints, a few outlines (one per tile they fall in).
    assert 1 <= len(features) <= 4 and sum(f["properties"]["cells"] for f in features) > 10
    # A later load marks the outlines stale; the next tile shows the new footprints.
    fx, fy = _tile(lon + 0.03, lat - 0.015, 14)
    assert (fx // 2, fy // 2) != (x, y)
    empty = client.get(f"/ogc/collections/bina/tiles/WebMercatorQuad/14/{fy}/{fx}")
    assert "bina" not in mapbox_vector_tile.decode(empty.content)
    _footprints(tmp_path, "b.geojson", lon + 0.03, lat - 0.015, 4, 7_100_000_000)
    again = client.get(f"/ogc/collections/bina/tiles/WebMercatorQuad/14/{fy}/{fx}")
    assert len(mapbox_vector_tile.decode(again.content)["bina"]["features"]) >= 1
    # Below the lowest generalised zoom there are no tiles; from the detail zoom, footprints.
    assert client.get(f"/ogc/collections/bina/tiles/WebMercatorQuad/9/{y // 16}/{x // 16}"
                      ).status_code == 404
    dx, dy = _tile(lon + 0.001, lat + 0.001, 16)
    detail = client.get(f"/ogc/collections/bina/tiles/WebMercatorQuad/16/{dy}/{dx}")
    assert len(mapbox_vector_tile.decode(detail.content)["bina"]["features"]) > 50
    # The operator's command builds them ahead of time; an unknown code is a typed error.
    from django.core.management import call_command

    from gis_core.errors import KentCBSError

    out = io.StringIO()
    call_command("generalise", "bina", "yol", stdout=out)
    assert "bina: " in out.getvalue() and "outlines" in out.getvalue()
    assert "yol: -" in out.getvalue()
    with pytest.raises(KentCBSError) as error:
        call_command("generalise", "nosuchlayer")
    assert error.value.code == "LAYER_UNKNOWN"


@pytest.mark.django_db
def test_outlines_of_a_regular_grid_have_no_one_cell_holes(town, tmp_path) -> None:
    """A 20 m plot grid near the cell size (about 15 m at zoom 15) draws as solid blocks,
    not as a sieve: the occupied cells are closed before they become outlines."""
    from layers.registry import registry
    from ogc_api import generalise

    lon, lat = town["park"]
    _footprints(tmp_path, "grid.geojson", lon, lat, 900, 7_300_000_000)  # 30 x 30 plots
    layer = registry.get("bina")
    generalise.build(layer)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT z, sum(ST_NumInteriorRings(d.geom)), count(*) FROM kentcbs_gen.outline o, "
            "ST_Dump(o.geom) AS d WHERE source = 'cbs.bina' AND z IN (13, 14, 15) GROUP BY z")
        rows = {z: (holes, parts) for z, holes, parts in cursor.fetchall()}
    assert set(rows) == {13, 14, 15}
    for z, (holes, parts) in rows.items():
        # One block (split only where it crosses a tile edge), and no holes in it.
        assert holes == 0 and parts <= 4, (z, holes, parts)


@pytest.mark.django_db
def test_map_centres_come_from_the_boundary_longitude_first() -> None:
    """Every folium map opens on the municipality's boundary, (lon, lat) never swapped."""
    from django.contrib.gis.geos import MultiPolygon, Point, Polygon

    from gis_core.maps import location, municipality_centre
    from gis_core.models import Municipality
    from modules.helpdesk.maps import load_map

    # Van (43.4° E, 38.5° N): the longitude is the larger number; nothing may swap it.
    assert location((43.4, 38.5)) == [38.5, 43.4]
    load_demo(profile="odunpazari", modules=False, city=False)
    boundary = Municipality.objects.get().boundary
    lon, lat = municipality_centre()
    inside = boundary.transform(4326, clone=True)
    assert inside.contains(Point(lon, lat, srid=4326))
    # A boundary drawn elsewhere moves every map with it (no profile constant wins).
    square = Polygon.from_bbox((lon + 0.5, lat + 0.5, lon + 0.6, lat + 0.6))
    square.srid = 4326
    Municipality.objects.update(boundary=MultiPolygon(square.transform(
        boundary.srid, clone=True), srid=boundary.srid))
    moved = municipality_centre()
    assert moved == pytest.approx((lon + 0.55, lat + 0.55), abs=0.01)
    page = load_map([], centre=moved).html + load_map([], centre=moved).script
    assert f"{moved[1]:.4f}"[:6] in page and f"{moved[0]:.4f}"[:6] in page


@pytest.mark.django_db(transaction=True)
def test_stale_outlines_are_served_while_one_rebuild_runs_in_the_background(tmp_path) -> None:
    """After a load, no tile waits for the rebuild: the previous outlines are served, one
    background rebuild runs, and the next tile has the new footprints."""
    import mapbox_vector_tile

    from layers.registry import registry
    from ogc_api import generalise

    load_demo(profile="odunpazari", modules=False, city=False)
    town = _load_street_and_park(tmp_path)
    lon, lat = town["park"]
    _footprints(tmp_path, "a.geojson", lon, lat, 100, 7_200_000_000)
    client = signed_in(member("imarci2", "imar_sehircilik", "viewer"))
    x, y = _tile(lon + 0.03, lat - 0.015, 14)
    url = f"/ogc/collections/bina/tiles/WebMercatorQuad/14/{y}/{x}"
    assert "bina" not in mapbox_vector_tile.decode(client.get(url).content)  # built, current
    source = "cbs.bina"
    # the loads above may have set off a rebuild of their own: let it end first
    running = generalise.rebuilding.get(source)
    if running is not None:
        running.join(timeout=300)
    assert source not in generalise.rebuilding
    before = generalise.started.count(source)
    _footprints(tmp_path, "b.geojson", lon + 0.03, lat - 0.015, 4, 7_300_000_000)
    stale = client.get(url)  # answered at once from the stale outlines
    assert stale.status_code == 200 and "bina" not in mapbox_vector_tile.decode(stale.content)
    assert generalise.started.count(source) == before + 1
    client.get(url)  # a second request while it runs (or after) starts no other rebuild
    rebuild = generalise.rebuilding.get(source)
    if rebuild is not None:
        rebuild.join(timeout=300)
        assert not rebuild.is_alive()
    fresh = mapbox_vector_tile.decode(client.get(url).content)
    assert len(fresh["bina"]["features"]) >= 1
    assert generalise.started.count(source) == before + 1
    assert generalise._state(generalise._source(registry.get("bina"))) is True
