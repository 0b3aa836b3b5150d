"""Stored codes read as words on the map: the legend, identify, the attribute table's
field description and the XLSX export show an enum's labels (here the netops layer
``ag_bina_durumu``, whose ``durum`` is ``up``/``degraded``/``down``), in the user's
language. CSV and GeoPackage keep the codes (they load back unchanged).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
import pytest
from django.test import Client

from gis_core.demo import load_demo
from gis_core.models import Building
from tests.people import member, signed_in


def _config(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('id="map-config"')
    return json.loads(html[html.index(">", start) + 1:html.index("</script>", start)])


@pytest.fixture
def statuses(db: None) -> dict[str, Any]:
    from modules.netops.models import BuildingNetworkStatus

    load_demo(profile="odunpazari", modules=False, city=False)
    first, second = Building.objects.filter(footprint__isnull=False).order_by("code")[:2]
    for building, state in ((first, "degraded"), (second, "down")):
        BuildingNetworkStatus.objects.update_or_create(
            building=building, defaults={"state": state,
                                         "location": building.footprint.point_on_surface})
    point = first.footprint.point_on_surface.transform(4326, clone=True)
    return {"degraded": (point.x, point.y), "codes": (first.code, second.code)}


def _body(response: Any) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def _client(lang: str) -> Client:
    client = signed_in(member("ag.okur", "bilgi_islem", "technician"))
    client.cookies["django_language"] = lang
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "degraded", "down"), [("tr", "Kısmi kesinti", "Kesinti"),
                                                        ("en", "Degraded", "Down")])
def test_enum_values_show_their_labels_in_legend_identify_table_and_xlsx(
        statuses: dict[str, Any], lang: str, degraded: str, down: str) -> None:
    client = _client(lang)
    response = client.get("/map/")
    assert response.status_code == 200
    html = response.content.decode()
    # The legend beside the layer: one line per style rule, in words.
    section = html[html.index('data-code="ag_bina_durumu"'):]
    legend = section[section.index('<ul class="legend">'):section.index("</ul>")]
    assert degraded in legend and down in legend
    assert ">degraded<" not in legend.replace("</span>", "<") and "down<" not in legend
    # The attribute table learns the words of each value from the page's configuration.
    fields = {f["name"]: f for f in _config(response)["tools"]["fields"]["ag_bina_durumu"]}
    assert fields["durum"]["labels"]["degraded"] == degraded
    assert fields["durum"]["labels"]["down"] == down
    assert fields["bina_kodu"]["labels"] == {}
    # Identify: the stored code stays the value, the word is its label.
    lon, lat = statuses["degraded"]
    answer = client.get(f"/map/identify.json?lon={lon:.7f}&lat={lat:.7f}&zoom=19"
                        "&layers=ag_bina_durumu").json()
    (found,) = answer["layers"]
    durum = next(f for f in found["features"][0]["fields"] if f["name"] == "durum")
    assert (durum["value"], durum["label"]) == ("degraded", degraded)
    # XLSX (for people): words; CSV (for loading back): codes.
    book = openpyxl.load_workbook(io.BytesIO(_body(client.get(
        "/layers/ag_bina_durumu/export.xlsx"))), read_only=True)
    rows = list(book.active.values)
    column = rows[0].index("Durum" if lang == "tr" else "State")
    assert sorted(row[column] for row in rows[1:]) == sorted([degraded, down])
    text = _body(client.get("/layers/ag_bina_durumu/export.csv"))
    states = [row["durum"] for row in csv.DictReader(io.StringIO(text.decode("utf-8-sig")))]
    assert sorted(states) == ["degraded", "down"]


def _tile_of(lonlat: tuple[float, float], z: int) -> tuple[int, int, int]:
    import math

    lon, lat = lonlat
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, y, x


@pytest.mark.django_db
def test_the_viewer_asks_tiles_for_its_styling_fields_only(statuses: dict[str, Any]) -> None:
    import mapbox_vector_tile

    client = _client("tr")
    html = client.get("/map/").content.decode()
    # The rules of ag_bina_durumu read ``durum``: the viewer's tiles carry that field only.
    assert "/ogc/collections/ag_bina_durumu/tiles/WebMercatorQuad/{z}/{y}/{x}?properties=durum" \
        in html
    z, y, x = _tile_of(statuses["degraded"], 16)
    url = f"/ogc/collections/ag_bina_durumu/tiles/WebMercatorQuad/{z}/{y}/{x}"

    def props(query: str) -> list[dict[str, Any]]:
        response = client.get(url + query)
        assert response.status_code == 200, response.content
        layer = mapbox_vector_tile.decode(response.content)["ag_bina_durumu"]
        return [feature["properties"] for feature in layer["features"]]

    full = props("")
    assert full and {"bina_kodu", "durum", "erisilebilir"} <= set(full[0])
    assert [p for p in props("?properties=durum")] == [{"durum": p["durum"]} for p in full]
    assert props("?properties=") == [{}] * len(full)
    bad = client.get(url + "?properties=nosuchfield")
    assert bad.status_code == 400
    assert bad.json()["description"] == ("bilinmeyen öznitelikler: nosuchfield / "
                                         "unknown properties: nosuchfield")


def test_legend_swatches_follow_the_geometry_and_escape_the_style() -> None:
    """The side panel's swatches (``{% legend_symbol %}``): a dashed line keeps its width
    (rounded as ``floatformat:0``), points are dots, areas squares; a style value is text."""
    from web.templatetags.kentcbs_ui import legend_symbol

    line = legend_symbol("MultiLineString", {"color": "#e31a1c", "weight": 2.5,
                                             "dashArray": "6 4"})
    assert line == ('<span class="legend-line" style="border-top-color:#e31a1c;'
                    'border-top-width:3px;border-top-style:dashed;"></span>')
    assert 'class="sw dot"' in legend_symbol("Point", {"fillColor": "#fff", "color": "#000"})
    area = legend_symbol("MultiPolygon", {"fillColor": '"><script>', "color": "#000"})
    assert area.startswith('<span class="sw" ') and "<script>" not in area
