"""``kentcbs municipality init``: any district, from its own boundary file, in any CRS.

Each set-up runs the real command in a subprocess against a database of its own,
created on the same PostgreSQL server for the test and dropped after it (the shared
test database is never touched), with its own ``KENTCBS_HOME`` (where the command
records the municipality and its SRID). Boundary files are written by the tests:
polygons of each district's official area around a point of the district.
"""

from __future__ import annotations

import json
import math
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import psycopg2
import pytest
import shapely
import yaml
from django.db import connection
from pyproj import Transformer

from gis_core.departments import DEFAULT_FILE, read_departments
from gis_core.errors import KentCBSError
from gis_core.municipality import MunicipalityRefused, check_boundary, read_boundary
from layers.official import UnknownDistrictError, district
from tests.conftest import kentcbs


@dataclass
class Database:
    url: str
    name: str
    home: Path

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "KENTCBS_HOME": str(self.home),
                "KENTCBS_TEST_DB_NAME": "", "KENTCBS_PROFILE": "", "KENTCBS_SRID": ""}

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        db = connection.settings_dict
        conn = psycopg2.connect(dbname=self.name, user=db["USER"], host=db["HOST"],
                                port=db["PORT"], password=db["PASSWORD"] or None)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()


def _admin() -> psycopg2.extensions.connection:
    db = connection.settings_dict
    conn = psycopg2.connect(dbname="postgres", user=db["USER"], host=db["HOST"],
                            port=db["PORT"], password=db["PASSWORD"] or None)
    conn.autocommit = True
    return conn


@pytest.fixture
def new_database(tmp_path: Path, django_db_blocker: object) -> Iterator[Database]:
    """An empty PostGIS database of its own (dropped afterwards), and a KENTCBS_HOME."""
    name = f"kentcbs_muni_{uuid.uuid4().hex[:10]}"
    db = connection.settings_dict
    admin = _admin()
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        made = psycopg2.connect(dbname=name, user=db["USER"], host=db["HOST"], port=db["PORT"],
                                password=db["PASSWORD"] or None)
        made.autocommit = True
        with made.cursor() as cur:
            cur.execute("CREATE EXTENSION postgis")
        made.close()
        url = f"postgis://{db['USER']}@{quote(str(db['HOST']), safe='')}:{db['PORT']}/{name}"
        yield Database(url=url, name=name, home=tmp_path / "home")
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# -- boundary files ----------------------------------------------------------------
def district_shape(lon: float, lat: float, area_km2: float, srid: int,
                   seed: int = 0) -> shapely.Polygon:
    """An irregular 40-gon of ``area_km2`` around (lon, lat), in EPSG:``srid``."""
    x, y = Transformer.from_crs(4326, srid, always_xy=True).transform(lon, lat)
    ring = []
    for i in range(40):
        angle = 2 * math.pi * i / 40
        radius = 1 + 0.15 * math.sin(3 * angle + seed) + 0.05 * math.cos(7 * angle)
        ring.append((x + radius * math.cos(angle), y + radius * math.sin(angle)))
    shape = shapely.Polygon(ring)
    return shapely.affinity.scale(shape, *(2 * [math.sqrt(area_km2 * 1e6 / shape.area)]),
                                  origin=(x, y))


def to_crs(geom: shapely.Geometry, source: int, target: int) -> shapely.Geometry:
    t = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


ODUNPAZARI = district("Eskişehir", "Odunpazarı")
EFELER = district("Aydın", "Efeler")
IPEKYOLU = district("Van", "İpekyolu")


def odunpazari_gpkg(folder: Path) -> Path:
    """The province's district layer in TM30 (EPSG:5254): three districts, upper case."""
    path = folder / "eskisehir_ilceler.gpkg"
    rows = [("ODUNPAZARI", district_shape(30.60, 39.62, 1120 * 0.97, 5254)),
            ("TEPEBAŞI", district_shape(30.45, 40.05, 1403, 5254, seed=1)),
            ("SİVRİHİSAR", district_shape(31.55, 39.45, 2781, 5254, seed=2))]
    gpd.GeoDataFrame({"ILCE_ADI": [r[0] for r in rows]}, geometry=[r[1] for r in rows],
                     crs=5254).to_file(path, layer="ilce_sinirlari")
    # a second layer first in the file, so that --layer matters
    gpd.GeoDataFrame({"ad": ["il"]}, geometry=[shapely.Point(0, 0)], crs=5254).to_file(
        path, layer="a_noktalar", mode="a")
    return path


def efeler_shapefile(folder: Path) -> Path:
    """A zipped Shapefile in EPSG:4326 with one feature."""
    shape = to_crs(district_shape(27.83, 37.87, 624 * 1.05, 5253), 5253, 4326)
    shp = folder / "efeler_sinir"
    shp.mkdir()
    gpd.GeoDataFrame({"AD": ["Efeler"]}, geometry=[shape], crs=4326).to_file(
        shp / "efeler.shp", encoding="utf-8")
    packed = folder / "efeler_sinir.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        for part in shp.iterdir():
            archive.write(part, part.name)
    return packed


def ipekyolu_kml(folder: Path) -> Path:
    """KML (always WGS 84), Van's İpekyolu at 43.4° E: TM42."""
    shape = to_crs(district_shape(43.40, 38.52, 956, 5258), 5258, 4326)
    path = folder / "ipekyolu.kml"
    gpd.GeoDataFrame({"Name": ["İpekyolu"]}, geometry=[shape], crs=4326).to_file(
        path, driver="KML")
    return path


def point_outside(boundary_lonlat: shapely.Geometry, srid: int, metres: float = 100
                  ) -> tuple[float, float]:
    """A point ``metres`` east of the boundary's easternmost vertex (in ``srid``)."""
    stored = to_crs(boundary_lonlat, 4326, srid)
    coords = shapely.get_coordinates(stored)
    x, y = coords[coords[:, 0].argmax()]
    return float(x + metres), float(y)


def ingest_poles(db: Database, folder: Path, srid: int, inside: tuple[float, float],
                 outside: tuple[float, float], neighbourhood: str) -> str:
    path = folder / "direkler.geojson"
    gpd.GeoDataFrame({"direk_no": ["AD-0001", "AD-0002"], "lamba_tipi": ["LED", "LED"],
                      "guc_w": [60, 60], "mahalle_adi": [neighbourhood, neighbourhood]},
                     geometry=[shapely.Point(*inside), shapely.Point(*outside)],
                     crs=srid).to_file(path, driver="GeoJSON")
    done = kentcbs("ingest", "aydinlatma", str(path), "--department", "fen_isleri",
                   env=db.env(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def one_line_error(done: object, code: str) -> str:
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode != 0, done.stdout  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    assert f"[{code}]" in stderr, stderr
    return str(stderr)


# -- set-ups through the real command ---------------------------------------------------
def _check_set_up(db: Database, done: object, *, official: object, srid: int,
                  code: str, departments: int = 17) -> None:
    out = done.stdout  # type: ignore[attr-defined]
    assert done.returncode == 0, out + done.stderr  # type: ignore[attr-defined]
    assert f"EPSG:{srid} (TUREF / TM" in out, out
    recorded = json.loads((db.home / "municipality.json").read_text(encoding="utf-8"))
    assert recorded["srid"] == srid and recorded["code"] == code
    # Every geometry column of the new database is in the zone.
    srids = {row[0] for row in db.query(
        "SELECT DISTINCT srid FROM geometry_columns WHERE f_table_schema NOT IN "
        "('tiger', 'topology')")}
    assert srids == {srid}
    assert db.query("SELECT name, province, srid, ST_SRID(boundary) FROM "
                    "gis_core_municipality") == [(official.name, official.province,  # type: ignore[attr-defined]
                                                  srid, srid)]
    names = [row[0] for row in db.query(
        "SELECT code FROM layers_codelistentry WHERE list_name = 'mahalle' ORDER BY sort_order")]
    assert names == official.neighbourhood_names  # type: ignore[attr-defined]
    # The departments of the shipped tree are there, with their groups.
    assert db.query("SELECT count(*) FROM gis_core_department")[0][0] == departments
    assert db.query("SELECT count(*) FROM auth_group WHERE name LIKE 'kentcbs:%%'")[0][0] == 6


def test_odunpazari_from_a_geopackage_of_the_province_s_districts_in_tm30(
        new_database: Database, tmp_path: Path) -> None:
    path = odunpazari_gpkg(tmp_path)
    done = kentcbs("municipality", "init", "--name", "odunpazarı", "--province", "ESKİŞEHİR",
                   "--boundary", str(path), "--layer", "ilce_sinirlari",
                   "--name-field", "ILCE_ADI", env=new_database.env(), timeout=600)
    _check_set_up(new_database, done, official=ODUNPAZARI, srid=5254, code="odunpazari")
    assert len(ODUNPAZARI.neighbourhood_names) == 85
    assert "1 feature(s) with ILCE_ADI = Odunpazarı" in done.stdout
    # The names the made-up profile list lacked are official now.
    assert {"Arifiye", "Sümer"} <= set(ODUNPAZARI.neighbourhood_names)

    # A pole 100 m outside the boundary is rejected by the ETL's rule; one inside loads.
    boundary = shapely.from_wkt(new_database.query(
        "SELECT ST_AsText(ST_Transform(boundary, 4326)) FROM gis_core_municipality")[0][0])
    outside = point_outside(boundary, 5254)
    stored = shapely.from_wkt(new_database.query(
        "SELECT ST_AsText(boundary) FROM gis_core_municipality")[0][0])
    assert 99 < stored.distance(shapely.Point(outside)) <= 100.5
    centre = stored.point_on_surface()
    out = ingest_poles(new_database, tmp_path, 5254, (centre.x, centre.y), outside, "Arifiye")
    rows = new_database.query("SELECT direk_no FROM cbs.aydinlatma")
    assert rows == [("AD-0001",)], out
    assert "OUTSIDE_MUNICIPALITY" in out

    # The same command again changes nothing; another municipality is refused, with the
    # command to use instead.
    again = kentcbs("municipality", "init", "--name", "Odunpazarı", "--province", "Eskişehir",
                    "--boundary", str(path), "--layer", "ilce_sinirlari",
                    "--name-field", "ILCE_ADI", env=new_database.env(), timeout=600)
    assert again.returncode == 0, again.stderr
    assert "already set up here" in again.stdout
    assert new_database.query("SELECT count(*) FROM gis_core_municipality")[0][0] == 1
    other = kentcbs("municipality", "init", "--name", "Efeler", "--province", "Aydın",
                    "--boundary", str(efeler_shapefile(tmp_path)), env=new_database.env())
    text = one_line_error(other, "DB_OTHER_MUNICIPALITY")
    assert "KENTCBS_HOME=/srv/kentcbs-efeler kentcbs municipality init" in text
    assert json.loads((new_database.home / "municipality.json").read_text())["code"] == \
        "odunpazari"


def test_efeler_from_a_zipped_shapefile_in_wgs84(new_database: Database,
                                                 tmp_path: Path) -> None:
    done = kentcbs("municipality", "init", "--name", "Efeler", "--province", "Aydın",
                   "--boundary", str(efeler_shapefile(tmp_path)), env=new_database.env(),
                   timeout=600)
    _check_set_up(new_database, done, official=EFELER, srid=5253, code="efeler")
    assert len(EFELER.neighbourhood_names) == 83


def test_van_ipekyolu_from_kml_in_another_zone(new_database: Database, tmp_path: Path) -> None:
    path = ipekyolu_kml(tmp_path)
    # the municipality's own departments file: the shipped tree and one directorate more
    tree = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    tree["departments"].append({"code": "su_kanalizasyon", "name": "Su ve Kanalizasyon "
                                "Müdürlüğü", "name_en": "Directorate of Water and Sewerage"})
    departments = tmp_path / "birimler.yaml"
    departments.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    done = kentcbs("municipality", "init", "--name", "İPEKYOLU", "--province", "van",
                   "--boundary", str(path), "--departments", str(departments),
                   env=new_database.env(), timeout=600)
    _check_set_up(new_database, done, official=IPEKYOLU, srid=5258, code="ipekyolu",
                  departments=18)
    assert new_database.query("SELECT name FROM gis_core_department WHERE code = "
                              "'su_kanalizasyon'") == [("Su ve Kanalizasyon Müdürlüğü",)]
    assert "42" in done.stdout and "40.5–43.5° E" in done.stdout
    boundary = gpd.read_file(path).geometry.iloc[0]
    outside = point_outside(boundary, 5258)
    stored = shapely.from_wkt(new_database.query(
        "SELECT ST_AsText(boundary) FROM gis_core_municipality")[0][0])
    centre = stored.point_on_surface()
    name = IPEKYOLU.neighbourhood_names[0]
    out = ingest_poles(new_database, tmp_path, 5258, (centre.x, centre.y), outside, name)
    assert new_database.query("SELECT direk_no FROM cbs.aydinlatma") == [("AD-0001",)], out


def test_a_database_with_tables_in_another_zone_is_refused(new_database: Database,
                                                           tmp_path: Path) -> None:
    new_database.query("CREATE TABLE public.old (g geometry(Point, 5254)); SELECT 1")
    done = kentcbs("municipality", "init", "--name", "Efeler", "--province", "Aydın",
                   "--boundary", str(efeler_shapefile(tmp_path)), env=new_database.env())
    text = one_line_error(done, "DB_OTHER_SRID")
    assert "EPSG:5254" in text and "EPSG:5253" in text and "KENTCBS_HOME=" in text
    assert not (new_database.home / "municipality.json").exists()


def test_an_unknown_district_is_refused_with_the_province_s_districts(
        new_database: Database, tmp_path: Path) -> None:
    done = kentcbs("municipality", "init", "--name", "Atlantis", "--province", "Eskişehir",
                   "--boundary", str(tmp_path / "none.gpkg"), env=new_database.env())
    text = one_line_error(done, "UNKNOWN_DISTRICT")
    assert "Odunpazarı" in text and "Tepebaşı" in text


# -- the checks, in this process ----------------------------------------------------------
def test_a_geojson_in_a_tm_crs_gives_its_zone(tmp_path: Path) -> None:
    path = tmp_path / "efeler_tm27.geojson"
    gpd.GeoDataFrame({"ad": ["Efeler"]}, geometry=[district_shape(27.84, 37.86, 600, 5253)],
                     crs=5253).to_file(path, driver="GeoJSON")
    lonlat, source, _notes = read_boundary(path, district=EFELER)
    assert "EPSG:5253" in source
    checked = check_boundary(lonlat, district=EFELER)
    assert checked.srid == 5253 and abs(checked.area_km2 - 600) < 1


def test_refusals_name_their_reason(tmp_path: Path) -> None:
    def refused(geom: shapely.Geometry, official: object = ODUNPAZARI) -> MunicipalityRefused:
        path = tmp_path / f"b{uuid.uuid4().hex[:6]}.geojson"
        gpd.GeoDataFrame(geometry=[geom], crs=4326).to_file(path, driver="GeoJSON")
        with pytest.raises(MunicipalityRefused) as info:
            lonlat, _source, _notes = read_boundary(path, district=official)  # type: ignore[arg-type]
            check_boundary(lonlat, district=official)  # type: ignore[arg-type]
        return info.value

    good = to_crs(district_shape(30.60, 39.62, 1120, 5254), 5254, 4326)
    # a self-intersecting ring (a bow tie)
    bowtie = shapely.Polygon([(30.3, 39.5), (30.8, 39.9), (30.8, 39.5), (30.3, 39.9)])
    error = refused(bowtie)
    assert error.code == "BOUNDARY_INVALID" and "Self-intersection" in error.english
    # the boundary of a made-up 185 km² town: far from the official 1120 km²
    small = to_crs(district_shape(30.52, 39.77, 185, 5254), 5254, 4326)
    error = refused(small)
    assert error.code == "AREA_MISMATCH"
    assert "185.0 km²" in error.english and "1120 km²" in error.english
    # the same shape moved to Italy, and to Efeler
    assert refused(shapely.affinity.translate(good, -18, 3)).code == "OUTSIDE_TURKIYE"
    error = refused(to_crs(district_shape(27.83, 37.87, 1120, 5253), 5253, 4326))
    assert error.code == "BOUNDARY_NOT_IN_PROVINCE" and "Eskişehir" in error.english
    # lon/lat swapped
    swapped = shapely.transform(good, lambda xy: xy[:, ::-1])
    assert refused(swapped).code in {"CRS_LATLON_SWAPPED", "OUTSIDE_TURKIYE"}
    # lines, not polygons
    assert refused(good.boundary).code == "BOUNDARY_NOT_POLYGON"
    with pytest.raises(UnknownDistrictError) as info:
        district("Eskişehir", "Atlantis")
    assert info.value.code == "UNKNOWN_DISTRICT"
    with pytest.raises(UnknownDistrictError) as info:
        district("Narnia", "Odunpazarı")
    assert info.value.code == "UNKNOWN_PROVINCE"


def test_turkish_case_folding_finds_districts() -> None:
    assert district("ISPARTA", "MERKEZ").province == "Isparta"
    assert district("eskişehir", "ODUNPAZARI").name == "Odunpazarı"
    assert district("Van", "ipekyolu").name == "İpekyolu"


def test_a_departments_file_is_checked(tmp_path: Path) -> None:
    rows, roles = read_departments(DEFAULT_FILE)
    assert len(rows) == 17 and len(roles) == 6
    assert rows[0].parent is None and {r.code for r in rows} >= {"bilgi_islem", "cbs"}
    tree = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))

    def refused(change: object) -> str:
        data = yaml.safe_load(yaml.safe_dump(tree))
        change(data)  # type: ignore[operator]
        path = tmp_path / "d.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with pytest.raises(KentCBSError) as info:
            read_departments(path)
        assert info.value.code == "DEPARTMENTS_FILE_INVALID"
        return info.value.english

    assert "cbs" in refused(lambda d: d["departments"].pop(
        next(i for i, r in enumerate(d["departments"]) if r["code"] == "cbs")))
    assert "mayor" in refused(lambda d: d.update(roles=["viewer", "mayor"]))
    assert "'yok'" in refused(lambda d: d["departments"][1].update(parent="yok"))
    assert "Fen İşleri" in refused(lambda d: d["departments"].append(
        {"code": "Fen İşleri", "name": "x"}))


@pytest.mark.django_db
def test_the_demo_s_call_stores_a_municipality_in_this_process_s_zone() -> None:
    """``set_up_municipality`` (what ``kentcbs demo`` calls): the shared test database is in
    EPSG:5254, so Odunpazarı is stored (inside this test's transaction) and Efeler refused."""
    from gis_core.models import Municipality
    from gis_core.municipality import set_up_municipality
    from layers.codelists import codes

    small = to_crs(district_shape(30.52, 39.77, 185, 5254), 5254, 4326)
    with pytest.raises(MunicipalityRefused) as info:
        set_up_municipality(province="Eskişehir", name="Odunpazarı", boundary_lonlat=small)
    assert info.value.code == "AREA_MISMATCH"
    made = set_up_municipality(province="Eskişehir", name="Odunpazarı", boundary_lonlat=small,
                               check_area=False)
    assert (made.code, made.srid, made.boundary.srid) == ("odunpazari", 5254, 5254)
    assert abs(Municipality.objects.get().boundary.area / 1e6 - 185) < 0.5
    assert codes("mahalle") == set(ODUNPAZARI.neighbourhood_names)
    efeler = to_crs(district_shape(27.83, 37.87, 624, 5253), 5253, 4326)
    with pytest.raises(MunicipalityRefused) as info:
        set_up_municipality(province="Aydın", name="Efeler", boundary_lonlat=efeler)
    assert info.value.code == "SRID_NOT_CONFIGURED"


def test_check_finds_a_database_in_another_zone_than_the_settings(new_database: Database,
                                                                  tmp_path: Path) -> None:
    """``gis_core.E101``: once Efeler's database is set up in EPSG:5253, a process whose
    settings say EPSG:5254 (another KENTCBS_HOME: no municipality.json) refuses to migrate."""
    done = kentcbs("municipality", "init", "--name", "Efeler", "--province", "Aydın",
                   "--boundary", str(efeler_shapefile(tmp_path)), env=new_database.env(),
                   timeout=600)
    assert done.returncode == 0, done.stderr
    assert kentcbs("check", "--database", "default", env=new_database.env()).returncode == 0
    elsewhere = {**new_database.env(), "KENTCBS_HOME": str(tmp_path / "elsewhere")}
    checked = kentcbs("check", "--database", "default", env=elsewhere)
    assert checked.returncode != 0 and "gis_core.E101" in checked.stderr + checked.stdout
    migrated = kentcbs("migrate", env=elsewhere)
    assert migrated.returncode != 0 and "gis_core.E101" in migrated.stderr + migrated.stdout
    assert "Traceback" not in migrated.stderr
