"""QGIS itself against the live server: OAPIF and vector tiles with a token from its auth manager.

PyQGIS runs only on Debian's Python 3.11 (package python3-qgis), so the test drives
it in a subprocess (offscreen, its own profile and auth database in a temporary
folder). GIS staff connect exactly this way: an "Basic" authentication
configuration holding their username and a personal access token, stored in
QGIS's encrypted auth database and referenced by ``authcfg`` in the layer source.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_ogc_api import LAT, LON, OgcSite
from tests.test_ogc_api import ogc as ogc  # the live-server fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

SYSTEM_PYTHON = "/usr/bin/python3"

#: QGIS started headless, with a Basic authentication configuration (``config``) holding
#: ``user`` and ``token``: the start of every PyQGIS script below.
QGIS_AUTH = '''app = QgsApplication([], False)
app.initQgis()
auth = QgsApplication.authManager()
assert auth.setMasterPassword("kentcbs-test-master", True)
config = QgsAuthMethodConfig()
config.setName("KentCBS")
config.setMethod("Basic")
config.setConfig("username", user)
config.setConfig("password", token)
assert auth.storeAuthenticationConfig(config)
'''

SCRIPT = r'''
import json, sys
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCoordinateReferenceSystem,
                       QgsCoordinateTransform, QgsFeatureRequest, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsProject, QgsRectangle, QgsVectorLayer,
                       QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

url, user, token, tiles, lon, lat = sys.argv[1:7]
{QGIS_AUTH}authcfg = config.id()

def oapif(typename, with_auth):
    source = f"url='{url}' typename='{typename}'"
    if with_auth:
        source += f" authcfg='{authcfg}'"
    return QgsVectorLayer(source, typename, "OAPIF")

out = {}
anonymous_roads = oapif("yol", False)
out["roads_valid"] = anonymous_roads.isValid()
if not anonymous_roads.isValid():
    out["roads_error"] = anonymous_roads.error().summary()
out["roads_count"] = sum(1 for _ in anonymous_roads.getFeatures())
out["roads_crs"] = anonymous_roads.crs().authid()
names = {f["yol_adi"] for f in anonymous_roads.getFeatures()}
out["script_name_exact"] = any("<script>" in (n or "") for n in names)
box = anonymous_roads.extent()
small = QgsRectangle(box.xMinimum(), box.yMinimum(), box.xMinimum() + box.width() / 10,
                     box.yMinimum() + box.height() / 10)
out["roads_in_box"] = sum(1 for _ in anonymous_roads.getFeatures(
    QgsFeatureRequest().setFilterRect(small)))
out["buildings_anonymous_valid"] = oapif("bina", False).isValid()
buildings = oapif("bina", True)
out["buildings_valid"] = buildings.isValid()
out["buildings_count"] = sum(1 for _ in buildings.getFeatures())
out["token_in_source"] = token in buildings.source()

def drawn_pixels(source):
    """Render a vector tile layer over the first building; count pixels not white."""
    layer = QgsVectorTileLayer(source, "bina tiles")
    to_web = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                    QgsCoordinateReferenceSystem("EPSG:3857"),
                                    QgsProject.instance())
    centre = to_web.transform(float(lon), float(lat))
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(centre.x() - 200, centre.y() - 200,
                                    centre.x() + 200, centre.y() + 200))
    settings.setOutputSize(QSize(256, 256))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return layer.isValid(), sum(1 for x in range(0, 256, 2) for y in range(0, 256, 2)
                                if image.pixelColor(x, y).name() != "#ffffff")

# Anonymous first: QGIS keeps tiles in its own network cache (the answers say "private,
# max-age=60"), so after the token's render the same URLs would come from that cache.
out["tiles_anonymous"] = drawn_pixels(f"type=xyz&url={tiles}&zmin=14&zmax=22")
out["tiles_with_token"] = drawn_pixels(f"type=xyz&url={tiles}&zmin=14&zmax=22&authcfg={authcfg}")
print("RESULT " + json.dumps(out), flush=True)
# PyQGIS 3.22 may crash while Python tears its objects down; the results are out.
import os
os._exit(0)
'''


def test_qgis_reads_layers_with_a_token_from_its_auth_manager(ogc: OgcSite,
                                                              tmp_path: Path) -> None:
    assert os.path.exists(SYSTEM_PYTHON), "Debian's python3 with python3-qgis is required"
    script = tmp_path / "qgis_client.py"
    script.write_text(SCRIPT.replace("{QGIS_AUTH}", QGIS_AUTH), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path), "QGIS_AUTH_DB_DIR_PATH": str(tmp_path),
           "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path)}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    tiles = f"{ogc.url}/collections/bina/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    result = subprocess.run(
        [SYSTEM_PYTHON, str(script), ogc.url, "ogc_admin", ogc.token, tiles, str(LON),
         str(LAT)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, (result.stdout[-2000:], result.stderr[-3000:])
    out = json.loads(lines[0].removeprefix("RESULT "))
    assert out["roads_valid"] and out["roads_count"] == 25, out
    assert out["roads_crs"] in ("EPSG:4326", "OGC:CRS84")
    assert out["script_name_exact"]  # attribute values arrive exactly as stored
    assert 0 < out["roads_in_box"] < 25  # the extent filter reached the server as bbox
    # The restricted layer: not there without the token, read with it.
    assert out["buildings_anonymous_valid"] is False
    assert out["buildings_valid"] and out["buildings_count"] == 5
    assert out["token_in_source"] is False  # the secret stays in QGIS's auth database
    # Vector tiles drawn by QGIS's own renderer: the buildings with the token, nothing
    # without it (the restricted layer's tiles are 404 anonymously).
    valid, drawn = out["tiles_with_token"]
    assert valid and drawn > 0, out
    assert out["tiles_anonymous"][1] == 0, out


EVERY_LAYER = r'''
import json, sys
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsVectorLayer, QgsWkbTypes

url, user, token, codes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
{QGIS_AUTH}out = {}
for with_token in (False, True):
    for code in codes:
        source = f"url='{url}' typename='{code}'"
        if with_token:
            source += f" authcfg='{config.id()}'"
        layer = QgsVectorLayer(source, code, "OAPIF")
        box = layer.extent()
        out[f"{code} {'token' if with_token else 'anonymous'}"] = {
            "valid": layer.isValid(), "fields": [f.name() for f in layer.fields()],
            "geometry": QgsWkbTypes.displayString(layer.wkbType()),
            "crs": layer.crs().authid(),
            "extent": [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()],
            "count": sum(1 for _ in layer.getFeatures()) if layer.isValid() else None}
print("RESULT " + json.dumps(out), flush=True)
import os
os._exit(0)
'''


def test_qgis_reads_every_collection_anonymous_and_with_a_token(ogc: OgcSite,
                                                                 tmp_path: Path) -> None:
    """QGIS 3.22 on every collection, rooms (oda, polygons) and empty ones included.

    QGIS 3.22's OAPIF provider takes a layer's fields, geometry type and CRS from
    its first page of features only (``items?limit=10``, read by OGR's GeoJSON
    driver; see ogc_api/CONFORMANCE.md): on a collection with features they are
    checked against the layer's standard; an empty collection opens as a valid layer
    with no features (newer clients, and GDAL here, read the published schema).
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import connection

    from gis_core.models import Building, Floor, Room
    from layers import access
    from layers.registry import registry
    from ogc_api.config import forget_extents, table_exists

    square = Polygon.from_bbox((LON, LAT, LON + 0.0004, LAT + 0.0003))
    square.srid = 4326
    square.transform(5254)
    building = Building.objects.create(code="HB-900", name="Hizmet binası",
                                       footprint=MultiPolygon(square, srid=square.srid),
                                       uavt_code="1234567890")
    floor = Floor.objects.create(building=building, number=0, name="Zemin kat")
    minx, miny, maxx, maxy = square.extent
    for number in range(3):
        width = (maxx - minx) / 3
        outline = Polygon.from_bbox((minx + number * width, miny,
                                     minx + (number + 1) * width, maxy))
        outline.srid = square.srid
        Room.objects.create(building=building, floor=floor, code=f"0{number + 1:02d}",
                            name="Ofis", outline=outline)
    forget_extents()
    layers = [layer for layer in registry.all() if table_exists(layer)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path), "QGIS_AUTH_DB_DIR_PATH": str(tmp_path),
           "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path)}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    script = tmp_path / "every_layer.py"
    script.write_text(EVERY_LAYER.replace("{QGIS_AUTH}", QGIS_AUTH), encoding="utf-8")
    result = subprocess.run(
        [SYSTEM_PYTHON, str(script), ogc.url, "ogc_admin", ogc.token,
         ",".join(layer.code for layer in layers)],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, (result.stdout[-2000:], result.stderr[-3000:])
    out = json.loads(lines[0].removeprefix("RESULT "))
    admin = get_user_model().objects.get(username="ogc_admin")
    with_features = {"yol": 25, "bina": 5, "oda": 3, "bina_hizmet": 1}
    for layer in layers:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {layer.backing.table}")
            assert cursor.fetchone()[0] == with_features.get(layer.code, 0), layer.code
    for layer in layers:
        for who, user in [("anonymous", AnonymousUser()), ("token", admin)]:
            got = out[f"{layer.code} {who}"]
            if not access.can_read(user, layer):
                assert got["valid"] is False, (layer.code, who, got)
                continue
            assert got["valid"], (layer.code, who, got)
            assert got["count"] == with_features.get(layer.code, 0), (layer.code, who, got)
            if layer.code in with_features:
                visible = list(access.visible_fields(user, layer))
                assert got["fields"] == visible, (layer.code, who, got)
                assert got["geometry"] == layer.geometry_type, (layer.code, who, got)
                assert got["crs"] == "EPSG:4326", (layer.code, who, got)
                west, south, east, north = got["extent"]
                assert LON - 0.01 < west <= east < LON + 0.01, (layer.code, who, got)
                assert LAT - 0.01 < south <= north < LAT + 0.01, (layer.code, who, got)
