"""Per-layer templates (issue 18 §3): an empty GeoPackage with its QGIS style, the style
alone, and an Excel workbook; a file filled from a template passes the mapping step as it
is, and the GeoPackage loads."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from etl.mapping import read_sample, suggest, suggest_for_file
from layers.file_templates import (
    DATA_SHEET,
    FIELDS_SHEET,
    LISTS_SHEET,
    geopackage_template,
    qml_style,
    xlsx_template,
)
from layers.registry import registry
from tests.people import member, signed_in

X0, Y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)
SYSTEM_PYTHON = "/usr/bin/python3"
#: code lists are read from the database (``layers_codelistentry``)
pytestmark = pytest.mark.django_db
CODE_BASE = 9_800_000_000


def test_xlsx_template_has_the_fields_drop_downs_and_descriptions() -> None:
    layer = registry.get("bina")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(layer)))
    assert book.sheetnames == [DATA_SHEET, LISTS_SHEET, FIELDS_SHEET]
    assert book[LISTS_SHEET].sheet_state == "hidden"
    data = book[DATA_SHEET]
    header = [c.value for c in data[1]]
    assert header == [*layer.field_names, "wkt"]
    checks = {str(v.sqref): v for v in data.data_validations.dataValidation}
    use_column = openpyxl.utils.get_column_letter(header.index("kullanim") + 1)
    use = checks[f"{use_column}2:{use_column}5001"]
    assert use.type == "list" and use.formula1.startswith(f"'{LISTS_SHEET}'!$")
    # the drop-down's range holds exactly the code list's entries
    sheet_range = use.formula1.split("!")[1].replace("$", "")
    listed = [c.value for row in book[LISTS_SHEET][sheet_range] for c in row]
    assert "Konut + Ticaret" in listed and len(listed) == 12
    floors_column = openpyxl.utils.get_column_letter(header.index("kat_sayisi") + 1)
    floors = checks[f"{floors_column}2:{floors_column}5001"]
    assert (floors.type, floors.formula1, floors.formula2) == ("whole", "1", "60")
    about = [[c.value for c in row] for row in book[FIELDS_SHEET].iter_rows()]
    assert [row[0] for row in about[1:]] == [*layer.field_names, "wkt"]
    uavt = about[1]
    assert uavt[1] == "UAVT bina kodu" and uavt[4] == "evet / yes" and "[0-9]{10}" in uavt[6]
    # a point layer is filled with longitude and latitude
    point = openpyxl.load_workbook(io.BytesIO(xlsx_template(registry.get("aydinlatma"))))
    assert [c.value for c in point[DATA_SHEET][1]][-2:] == ["boylam", "enlem"]


@pytest.mark.django_db
def test_filled_xlsx_template_passes_the_mapping_step_unchanged() -> None:
    layer = registry.get("bina")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_template(layer)))
    data = book[DATA_SHEET]
    from layers.codelists import codelist

    names = [e.code for e in codelist("mahalle")]
    for i in range(100):
        data.append([str(CODE_BASE + i), f"Bina {i}", i, i, names[i % len(names)], 3, 0,
                     "Konut", 1990, f"R-{i}",
                     shapely.box(X0 + i * 30, Y0, X0 + i * 30 + 20, Y0 + 15).wkt])
    buffer = io.BytesIO()
    book.save(buffer)
    frame = pd.read_excel(io.BytesIO(buffer.getvalue()), sheet_name=DATA_SHEET, dtype=str)
    assert len(frame) == 100
    columns = [c for c in frame.columns if c != "wkt"]
    found = suggest(columns, frame, layer)
    assert found.exact
    assert found.mapping() == {name: name for name in layer.field_names}
    assert all(c.codelist_share in (None, 1.0) for c in found.columns)


def test_qml_style_value_maps_aliases_and_constraints() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(qml_style(registry.get("bina")).split("\n", 1)[1])
    widgets = {f.get("name"): f.find("editWidget").get("type")
               for f in root.iter("field")}
    assert widgets["kullanim"] == widgets["mahalle_adi"] == "ValueMap"
    assert widgets["kat_sayisi"] == "TextEdit"
    use = next(f for f in root.iter("field") if f.get("name") == "kullanim")
    pairs = [(o.get("name"), o.get("value")) for o in use.iter("Option")
             if o.get("type") == "QString"]
    assert ("Konut + Ticaret", "Konut + Ticaret") in pairs and len(pairs) == 12
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["kat_sayisi"] == "Zemin üstü kat sayısı"
    constraints = {c.get("field"): c.get("notnull_strength") for c in root.iter("constraint")}
    assert constraints["uavt_bina_kodu"] == "1" and constraints["bina_adi"] == "0"


@pytest.mark.django_db(transaction=True)
def test_filled_geopackage_template_maps_as_it_is_and_loads(tmp_path, settings) -> None:
    from django.db import connection

    from etl.services import ingest
    from etl.testing import ensure_departments
    from layers.codelists import codelist, load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_codelists()
    ensure_departments()
    layer = registry.get("bina")
    path = tmp_path / "sablon.gpkg"
    path.write_bytes(geopackage_template(layer))
    info = pyogrio.read_info(path, layer="bina")
    assert list(info["fields"]) == layer.field_names
    assert info["geometry_type"] == "MultiPolygon" and info["features"] == 0
    assert info["crs"] == "EPSG:5254"
    with sqlite3.connect(path) as db:
        styles = db.execute("SELECT f_table_name, useAsDefault, styleQML FROM layer_styles"
                            ).fetchall()
    assert len(styles) == 1 and styles[0][:2] == ("bina", 1) and "ValueMap" in styles[0][2]

    names = [e.code for e in codelist("mahalle")]
    n = 10
    filled = gpd.GeoDataFrame({
        "uavt_bina_kodu": [str(CODE_BASE + i) for i in range(n)],
        "bina_adi": [f"Bina {i}" for i in range(n)], "ada_no": list(range(n)),
        "parsel_no": list(range(n)), "mahalle_adi": [names[i % len(names)] for i in range(n)],
        "kat_sayisi": [2] * n, "bodrum_kat_sayisi": [0] * n, "kullanim": ["Konut"] * n,
        "yapim_yili": [2000] * n, "ruhsat_no": [f"R-{i}" for i in range(n)],
    }, geometry=[shapely.MultiPolygon([shapely.box(X0 + i * 30, Y0, X0 + i * 30 + 20,
                                                   Y0 + 15)]) for i in range(n)], crs=5254)
    pyogrio.write_dataframe(filled, path, layer="bina", append=True)
    columns, sample = read_sample(path)
    assert columns == layer.field_names and len(sample) == n
    assert suggest_for_file(path, layer, department="imar_sehircilik").exact
    try:
        batch = ingest(layer="bina", path=path, department="imar_sehircilik")
        assert (batch.status, batch.count_read, batch.count_loaded) == ("loaded", n, n)
    finally:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM cbs.bina WHERE uavt_bina_kodu LIKE %s",
                        [f"{str(CODE_BASE)[:3]}%"])


QGIS_SCRIPT = r'''
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(sys.argv[1] + "|layername=bina", "bina", "ogr")
out = {"valid": layer.isValid()}
fields = layer.fields()
for name in ("kullanim", "mahalle_adi", "kat_sayisi"):
    setup = layer.editorWidgetSetup(fields.indexOf(name))
    out[name] = [setup.type(), setup.config()]
out["alias"] = fields.field("kat_sayisi").alias()
print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)
import os
os._exit(0)  # QGIS's own teardown of a headless application may crash; the answer is out
'''


def test_qgis_opens_the_geopackage_template_with_drop_downs(tmp_path) -> None:
    assert os.path.exists(SYSTEM_PYTHON), "Debian's python3 with python3-qgis is required"
    path = tmp_path / "sablon.gpkg"
    path.write_bytes(geopackage_template(registry.get("bina")))
    script = tmp_path / "qgis_template.py"
    script.write_text(QGIS_SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path), "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path)}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    result = subprocess.run([SYSTEM_PYTHON, str(script), str(path)], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, (result.stdout[-2000:], result.stderr[-3000:])
    out = json.loads(lines[0].removeprefix("RESULT "))
    assert out["valid"]
    kind, config = out["kullanim"]
    assert kind == "ValueMap"
    entries = {value: label for item in config["map"] for label, value in item.items()}
    assert entries["Konut + Ticaret"] == "Konut + Ticaret" and len(entries) == 12
    assert out["mahalle_adi"][0] == "ValueMap"
    assert out["kat_sayisi"][0] == "TextEdit"
    assert out["alias"] == "Zemin üstü kat sayısı"


@pytest.mark.django_db
def test_template_downloads_follow_read_access() -> None:
    from etl.testing import ensure_departments

    ensure_departments()
    clerk = signed_in(member("imar1", "imar_sehircilik", "data_entry"))
    resp = clerk.get("/upload/template/bina.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Disposition"].endswith('-sablon.xlsx"')
    openpyxl.load_workbook(io.BytesIO(resp.content))
    assert clerk.get("/upload/template/bina.gpkg").content.startswith(b"SQLite format 3")
    assert b"ValueMap" in clerk.get("/upload/template/bina.qml").content
    assert clerk.get("/upload/template/bina.exe").status_code == 404
    assert clerk.get("/upload/template/yok.xlsx").status_code == 404
    # a layer the department may not read: as if it did not exist
    outsider = signed_in(member("dis1", None))
    assert outsider.get("/upload/template/bina.xlsx").status_code == 404
    page = clerk.get("/upload/").content.decode()
    assert 'href="/upload/template/bina.xlsx"' in page
