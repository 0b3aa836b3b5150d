"""Set up a municipality from its own boundary file (``kentcbs municipality init``).

1. The district is looked up in the national registry (:mod:`layers.official`).
2. The boundary file is read as uploads are (:func:`etl.read.open_upload`, the same
   safety limits, format sniffing and encodings) and its CRS goes through the same
   diagnostics (:func:`etl.normalise.resolve_crs`, :func:`etl.normalise.diagnose_crs`).
3. The boundary is checked (:func:`check_boundary`): valid polygons, inside Türkiye,
   near its province, an area close to the registry's; its centroid's longitude
   chooses the storage SRID (:func:`gis_core.profiles.tm_zone_srid`).
4. The database is checked (:func:`database_state`): the SRID of every geometry column
   is fixed when the schema is created, so a database that already holds geometry
   tables in another SRID, or another municipality, is refused.
5. ``$KENTCBS_HOME/municipality.json`` is written (:mod:`gis_core.deployment`); a new
   ``kentcbs`` process (which reads it at start-up) migrates the database and stores
   the municipality (:func:`create_municipality`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis_core.errors import KentCBSError
from gis_core.profiles import TM_ZONES, tm_zone_srid

if TYPE_CHECKING:
    import shapely

    from gis_core.models import Municipality
    from layers.official import District

#: Türkiye's extent in lon/lat (mainland and islands, a little margin).
TURKIYE_LONLAT = (25.6, 35.75, 44.85, 42.15)
#: The boundary's area may be at most this many times larger or smaller than the registry's.
MAX_AREA_RATIO = 1.5
#: The registry has no district coordinates; a district's centroid lies within this
#: distance of its province's centre (Anamur is ~180 km from Mersin).
MAX_KM_FROM_PROVINCE = 250.0


class MunicipalityRefused(KentCBSError):
    """The municipality cannot be set up as asked (bad boundary, other database...)."""


@dataclass
class CheckedBoundary:
    """A boundary that passed every check, and what follows from it."""

    district: District
    srid: int
    #: The boundary in lon/lat (EPSG:4326) and in the storage SRID.
    lonlat: shapely.MultiPolygon
    stored: shapely.MultiPolygon
    centre: tuple[float, float]
    area_km2: float
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return municipality_code(self.district)

    @property
    def area_ratio(self) -> float:
        official = float(self.district.area_km2 or 0)
        return self.area_km2 / official if official else math.nan


def municipality_code(district: District) -> str:
    """The deployment's code: the district's folded name (``odunpazari``); a district called
    Merkez takes its province's name in front (``van_merkez``)."""
    from etl.textnorm import field_key

    code = field_key(district.name)
    return f"{field_key(district.province)}_{code}" if code == "merkez" else code


def zone_label(srid: int) -> str:
    meridian = next(m for m, s in TM_ZONES.items() if s == srid)
    return f"EPSG:{srid} (TUREF / TM{meridian}, {meridian - 1.5:g}–{meridian + 1.5:g}° E)"


def _province_box(district: District) -> tuple[float, float, float, float]:
    lon, lat = district.province_centre
    dlat = MAX_KM_FROM_PROVINCE / 111.2
    dlon = dlat / math.cos(math.radians(lat))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _layer_info(dataset: str, layer: str, encoding: str | None) -> dict[str, object]:
    """A named layer's CRS and feature count (run in a limited child, as ``_inspect``)."""
    import pyogrio

    from etl.errors import UploadRefused

    names = [str(row[0]) for row in pyogrio.list_layers(dataset)]
    if layer not in names:
        raise UploadRefused("LAYER_NOT_FOUND", "The file has no layer '{layer}'. Its layers: "
                            "{layers}.", layer=layer, layers=", ".join(names))
    info = pyogrio.read_info(dataset, layer=layer, encoding=encoding, force_feature_count=True)
    return {"crs": info["crs"], "count": int(info["features"]),
            "fields": [str(f) for f in info["fields"]]}


def _name_key(text: str) -> str:
    import re

    from etl.textnorm import fold

    folded = fold(text)
    folded = re.sub(r"\b(ilcesi|ilce|belediyesi|belediye|merkez ilce)\b", " ", folded)
    return re.sub(r"[^a-z0-9]+", "", folded)


def read_boundary(path: Path, *, district: District, layer: str | None = None,
                  name_field: str | None = None, crs: str | None = None
                  ) -> tuple[shapely.MultiPolygon, str, list[str]]:
    """Read the boundary file: the district's polygon(s) in lon/lat, a description of the
    source, and notes (the CRS diagnostics' warnings).

    ``layer`` names the layer of a multi-layer file (GeoPackage, KML); ``name_field``
    names the column that holds district names, when the file holds several districts:
    only the features whose value is the district's name (Turkish folding, ``İlçesi``
    and ``Belediyesi`` ignored) are used. ``crs`` is for a file that declares none.

    Raises
    ------
    MunicipalityRefused, UploadRefused
        With the reason (unreadable file, wrong CRS, no polygon, invalid polygon, no
        feature with the district's name).
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from etl.normalise import diagnose_crs, resolve_crs
    from etl.read import open_upload, read_chunks
    from etl.safety import Limits, run_limited

    with tempfile.TemporaryDirectory(prefix="kentcbs-boundary-") as workdir:
        limits = Limits.from_settings()
        info = open_upload(path, workdir=Path(workdir), limits=limits)
        if layer is not None and layer != info.layer:
            meta = run_limited(_layer_info, str(info.dataset), layer, info.encoding,
                               limits=limits, what=path.name)
            info.layer = layer
            info.crs = meta["crs"] if meta["crs"] else None  # type: ignore[assignment]
            info.feature_count = int(meta["count"])  # type: ignore[call-overload]
            info.fields = list(meta["fields"])  # type: ignore[call-overload]
        source_crs, diagnostics = resolve_crs(file_crs=info.crs, declared=crs,
                                              file_says=info.crs_text)
        chunks = list(read_chunks(info, crs=source_crs.to_wkt(), limits=limits))
    frame = (gpd.GeoDataFrame(pd.concat(chunks), crs=source_crs) if chunks
             else gpd.GeoDataFrame(geometry=[], crs=source_crs))
    frame = frame[~frame.geometry.isna() & ~frame.geometry.is_empty]
    label = f"EPSG:{source_crs.to_epsg()}" if source_crs.to_epsg() else source_crs.name
    description = (f"{path.name} ({info.format}, {info.layer or '-'}, {len(frame)} feature(s), "
                   f"{label})")
    if name_field is not None:
        columns = [c for c in frame.columns if c != frame.geometry.name]
        if name_field not in columns:
            raise MunicipalityRefused(
                "NAME_FIELD_MISSING", "The boundary file has no field '{field}'. Its fields: "
                "{fields}.", field=name_field, fields=", ".join(map(str, columns)))
        wanted = _name_key(district.name)
        keys = frame[name_field].astype("string").fillna("").map(_name_key)
        if not (keys == wanted).any():
            sample = ", ".join(sorted({str(v) for v in frame[name_field].dropna()})[:12])
            raise MunicipalityRefused(
                "BOUNDARY_NAME_NOT_FOUND", "No feature of the boundary file has '{district}' "
                "in its field '{field}' (values: {values}).", district=district.name,
                field=name_field, values=sample or "-")
        frame = frame[(keys == wanted).to_numpy()]
        description = (f"{path.name} ({info.format}, {info.layer or '-'}, {len(frame)} "
                       f"feature(s) with {name_field} = {district.name}, {label})")
    if frame.empty:
        raise MunicipalityRefused("BOUNDARY_EMPTY", "The boundary file '{name}' holds no "
                                  "geometry.", name=path.name)
    geoms = shapely.force_2d(frame.geometry.to_numpy())
    kinds = set(shapely.get_type_id(geoms).tolist())
    if not kinds <= {3, 6}:  # Polygon, MultiPolygon
        raise MunicipalityRefused(
            "BOUNDARY_NOT_POLYGON", "The boundary must be polygons; '{name}' holds {kinds}.",
            name=path.name, kinds=", ".join(sorted(set(shapely.get_type_id(geoms).astype(str)
                                                       .tolist()) - {"3", "6"})) + " (GEOS type)")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[np.flatnonzero(invalid)[0]])
        raise MunicipalityRefused(
            "BOUNDARY_INVALID", "The boundary polygon is not valid: {reason} (in {crs}). "
            "Repair it in QGIS (Vector > Geometry Tools > Fix Geometries) and run again.",
            reason=reason, crs=label)
    bounds = np.asarray(shapely.total_bounds(geoms))
    notes = [d for d in diagnose_crs(bounds, source_crs,
                                     municipality_lonlat=_province_box(district),
                                     file_says=info.crs_text)]
    for diagnostic in [*diagnostics, *notes]:
        if diagnostic.severity == "error":
            raise MunicipalityRefused(diagnostic.code, diagnostic.message, **diagnostic.params)
    union = shapely.union_all(geoms)
    lonlat = gpd.GeoSeries([union], crs=source_crs).to_crs(4326).iloc[0]
    messages = [d.as_dict()["message"] for d in [*diagnostics, *notes]]
    return _multi(lonlat), description, [str(m) for m in messages]


def _multi(geom: Any) -> shapely.MultiPolygon:
    import shapely

    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    return geom


def check_boundary(lonlat: shapely.MultiPolygon, *, district: District,
                   check_area: bool = True) -> CheckedBoundary:
    """Check a boundary given in lon/lat and choose its storage SRID.

    Raises
    ------
    MunicipalityRefused
        ``BOUNDARY_INVALID``, ``OUTSIDE_TURKIYE``, ``BOUNDARY_NOT_IN_PROVINCE`` or
        ``AREA_MISMATCH`` (unless ``check_area`` is false: the demo's made-up town).

    Examples
    --------
    >>> import shapely
    >>> from layers.official import district
    >>> square = shapely.MultiPolygon([shapely.box(27.7, 37.75, 28.0, 37.95)])
    >>> checked = check_boundary(square, district=district("Aydın", "Efeler"))
    >>> checked.srid, round(checked.area_km2)
    (5253, 586)
    """
    import numpy as np
    import shapely
    from pyproj import Transformer

    if lonlat.is_empty or not lonlat.is_valid:
        reason = "empty" if lonlat.is_empty else shapely.is_valid_reason(lonlat)
        raise MunicipalityRefused("BOUNDARY_INVALID", "The boundary polygon is not valid: "
                                  "{reason} (in {crs}).", reason=reason, crs="EPSG:4326")
    centroid = lonlat.centroid
    lon, lat = float(centroid.x), float(centroid.y)
    west, south, east, north = TURKIYE_LONLAT
    srid = tm_zone_srid(lon)
    if srid is None or not (west <= lon <= east and south <= lat <= north):
        raise MunicipalityRefused(
            "OUTSIDE_TURKIYE", "The boundary's centre ({lon:.3f} E, {lat:.3f} N) is outside "
            "Türkiye. Check the file's coordinate reference system.", lon=lon, lat=lat)
    distance = _km_between((lon, lat), district.province_centre)
    if distance > MAX_KM_FROM_PROVINCE:
        raise MunicipalityRefused(
            "BOUNDARY_NOT_IN_PROVINCE", "The boundary's centre ({lon:.3f} E, {lat:.3f} N) is "
            "{km:.0f} km from {province}; it is not the boundary of {district}. Check the "
            "file's coordinate reference system and the district.", lon=lon, lat=lat,
            km=distance, province=district.province, district=district.name)
    to_zone = Transformer.from_crs(4326, srid, always_xy=True)
    stored = _multi(shapely.transform(
        lonlat, lambda xy: np.column_stack(to_zone.transform(xy[:, 0], xy[:, 1]))))
    area = float(stored.area) / 1e6
    checked = CheckedBoundary(district=district, srid=srid, lonlat=lonlat, stored=stored,
                              centre=(lon, lat), area_km2=area)
    official = float(district.area_km2 or 0)
    if check_area and official:
        ratio = checked.area_ratio
        if not (1 / MAX_AREA_RATIO <= ratio <= MAX_AREA_RATIO):
            raise MunicipalityRefused(
                "AREA_MISMATCH", "The boundary covers {area:.1f} km², but the official area of "
                "{district} ({province}) is {official:.0f} km² ({ratio:.2f} times). This is not "
                "the district's boundary: a file of several districts needs --name-field.",
                area=area, district=district.name, province=district.province,
                official=official, ratio=ratio)
    return checked


def database_state(using: str = "default") -> dict[str, Any]:
    """What the database holds: ``srids`` of its geometry columns (outside PostGIS's own
    schemas), and ``municipality`` (code, name, province) when one is stored."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT DISTINCT srid FROM geometry_columns WHERE f_table_schema NOT IN "
                       "('tiger', 'topology') AND srid > 0")
        srids = sorted(int(row[0]) for row in cursor.fetchall())
        municipality = None
        cursor.execute("SELECT to_regclass('gis_core_municipality') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT code, name, province FROM gis_core_municipality ORDER BY id "
                           "LIMIT 1")
            municipality = cursor.fetchone()
    return {"srids": srids, "municipality": municipality}


def check_database(checked: CheckedBoundary, state: dict[str, Any]) -> bool:
    """Refuse a database this municipality cannot move into; ``True`` when this very
    municipality is already set up there (a re-run brings it up to date).

    Raises
    ------
    MunicipalityRefused
        ``DB_OTHER_MUNICIPALITY`` or ``DB_OTHER_SRID``, with what to do instead.
    """
    existing = state.get("municipality")
    if existing is not None and existing[0] != checked.code:
        raise MunicipalityRefused(
            "DB_OTHER_MUNICIPALITY", "This database already holds the municipality {name} "
            "({province}). One deployment serves one municipality: set up {district} in a new "
            "database (a new KENTCBS_HOME folder, or DATABASE_URL of an empty PostGIS "
            "database), e.g. KENTCBS_HOME=/srv/kentcbs-{slug} kentcbs municipality init ...",
            name=existing[1], province=existing[2], district=checked.district.name,
            slug=checked.code)
    others = [srid for srid in state.get("srids", []) if srid != checked.srid]
    if others:
        raise MunicipalityRefused(
            "DB_OTHER_SRID", "This database already holds geometry tables in EPSG:{found}, "
            "but {district} needs {zone}. The storage SRID is fixed when the tables are "
            "created: set up {district} in a new database (a new KENTCBS_HOME folder, or "
            "DATABASE_URL of an empty PostGIS database), e.g. KENTCBS_HOME=/srv/kentcbs-{slug} "
            "kentcbs municipality init ...", found=", ".join(map(str, others)),
            district=checked.district.name, zone=zone_label(checked.srid), slug=checked.code)
    return existing is not None


def create_municipality(checked: CheckedBoundary) -> Municipality:
    """Store the municipality (its boundary in the storage SRID) and its ``mahalle`` code
    list; idempotent (a re-run replaces the boundary). The running process's
    ``settings.KENTCBS_SRID`` must be the boundary's zone.

    This is what ``kentcbs demo`` calls too, with a boundary checked by
    :func:`check_boundary` (``check_area=False`` for its made-up town).
    """
    from django.conf import settings
    from django.contrib.gis.geos import GEOSGeometry
    from django.db import transaction

    from gis_core.models import Municipality
    from layers.codelists import load_codelists

    if int(settings.KENTCBS_SRID) != checked.srid:
        raise MunicipalityRefused(
            "SRID_NOT_CONFIGURED", "This process stores geometries in EPSG:{current}, but "
            "{district} needs {zone}; run 'kentcbs municipality init' (it records the SRID "
            "before the tables are created).", current=settings.KENTCBS_SRID,
            district=checked.district.name, zone=zone_label(checked.srid))
    geom = GEOSGeometry(checked.stored.wkb_hex, srid=checked.srid)
    with transaction.atomic():
        municipality, _created = Municipality.objects.update_or_create(
            code=checked.code, defaults={
                "name": checked.district.name, "province": checked.district.province,
                "srid": checked.srid, "boundary": geom})
        load_codelists(names=["mahalle"])
    return municipality


def deployment_record(checked: CheckedBoundary) -> dict[str, Any]:
    """The content of ``municipality.json`` for this municipality."""
    return {"code": checked.code, "name": checked.district.name,
            "province": checked.district.province, "srid": checked.srid,
            "centre": [round(checked.centre[0], 6), round(checked.centre[1], 6)],
            "area_km2": round(checked.area_km2, 1)}


def set_up_municipality(*, province: str, name: str, boundary_lonlat: shapely.Geometry,
                        check_area: bool = True) -> Municipality:
    """Check a boundary given as a shapely (Multi)Polygon in lon/lat and store the
    municipality: the one call for code that makes its boundary itself (``kentcbs demo``,
    with ``check_area=False`` for a made-up town smaller than the real district).

    Raises
    ------
    MunicipalityRefused
        As :func:`check_boundary` and :func:`create_municipality`.
    UnknownDistrictError
        ``name`` is not a district of ``province`` in the national registry.
    """
    from layers.official import district

    checked = check_boundary(_multi(boundary_lonlat), district=district(province, name),
                             check_area=check_area)
    return create_municipality(checked)
