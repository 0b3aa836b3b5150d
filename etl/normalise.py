"""Normalise an upload: CRS (required, diagnosed, transformed) and field names.

The CRS checks explain the mistakes Turkish data really has, from the data's
extent alone (vectorised: one bounding box per chunk):

``CRS_MISSING``
    No CRS in the file and none given with ``--crs``.
``CRS_METRES_AS_DEGREES``
    Geographic CRS declared, but the numbers are TM metres.
``CRS_LATLON_SWAPPED``
    Geographic CRS, latitude and longitude in each other's place.
``CRS_WRONG_ZONE``
    A TM zone (27/30/33, ITRF96 EPSG:5253/5254/5255) that puts the data far
    from the municipality, while another zone puts it inside.
``CRS_OUTSIDE_AREA``
    Coordinates outside the declared CRS's area of use.
``CRS_ED50_SUSPECTED``
    ITRF96 declared, but the data sits a systematic ED50 to ITRF96 shift
    (~100-200 m) away from the same features already stored.
``DATA_SHIFTED``
    Any other systematic shift against the stored features over the layer's
    tolerance. Both refuse the upload unless the sender accepts the shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import yaml
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from etl.errors import UploadRefused
from etl.textnorm import field_key

#: ITRF96 / TUREF 3-degree TM zones used by Turkish municipalities.
TM_ZONES = {27: 5253, 30: 5254, 33: 5255}
#: ED50 TM zones with the same central meridians (EPSG 2320 TM30, 2321 TM33,
#: 23035/23036 UTM 35N/36N are the 6-degree variants).
ED50_FOR_ITRF96 = {5254: 2320, 5255: 2321}
#: Turkey's extent in lon/lat (with margin), for the swapped-axes check.
TURKEY_LONLAT = (25.0, 35.5, 45.5, 42.5)


@dataclass(frozen=True)
class Diagnostic:
    """One finding about the whole upload (not one feature)."""

    code: str
    severity: str  # "error" refuses the upload, "warning" is reported
    message: str  # English msgid with {placeholders}
    params: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        from gis_core.errors import bilingual

        return {"code": self.code, "severity": self.severity,
                "message": bilingual(self.message, **self.params),
                "params": {k: str(v) for k, v in self.params.items()}}


def resolve_crs(*, file_crs: str | None, declared: str | None, file_says: str | None = None
                ) -> tuple[CRS, list[Diagnostic]]:
    """Return the CRS to read the data in: ``--crs`` wins, else the file's.

    ``file_says`` is the CRS as the file itself names it when GDAL did not read it as
    written (a GeoJSON ``crs`` member GDAL does not know, which it reads as WGS 84): the
    file is then quoted, with a ``CRS_NAME_UNKNOWN`` warning (and the CRS it probably
    means, when the name shows it).

    Raises
    ------
    UploadRefused
        ``CRS_MISSING`` when neither is given, ``CRS_UNKNOWN`` when it cannot be parsed.
    """
    notes: list[Diagnostic] = []
    text = declared or file_crs
    if not text:
        raise UploadRefused("CRS_MISSING", "The file declares no coordinate reference system; "
                            "give one with --crs (e.g. EPSG:5254).")
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise UploadRefused("CRS_UNKNOWN", "The coordinate reference system '{crs}' is not "
                            "known.", crs=str(text)[:80]) from None
    if declared and file_crs:
        try:
            same = CRS.from_user_input(file_crs).equals(crs, ignore_axis_order=True)
        except CRSError:
            same = False
        if not same or file_says:
            notes.append(Diagnostic("CRS_OVERRIDDEN", "warning",
                                    "The file declares {file}; --crs {declared} was used.",
                                    {"file": _said_label(file_says, file_crs),
                                     "declared": declared}))
    elif file_says:
        meant = crs_meant_by(file_says)
        notes.append(Diagnostic(
            "CRS_NAME_UNKNOWN", "warning",
            "The file names its CRS '{says}', which GDAL does not know; it read the "
            "coordinates as {crs}. If the file means another CRS, declare it with --crs "
            "{hint}.", {"says": file_says[:80], "crs": _crs_label(crs),
                        "hint": meant or "EPSG:5253/5254/5255"}))
    return crs, notes


#: ITRF96/TUREF TM zones by central meridian (the name of a zone names its meridian).
_TM_BY_MERIDIAN = {27: 5253, 30: 5254, 33: 5255, 36: 5256, 39: 5257, 42: 5258, 45: 5259}


def crs_meant_by(name: str) -> str | None:
    """The EPSG code a CRS name GDAL does not know probably means (``None``: not clear).

    Examples
    --------
    >>> crs_meant_by("TUREF_TM30_ITRF96"), crs_meant_by("ED50 TM33"), crs_meant_by("x")
    ('EPSG:5254', 'EPSG:2321', None)
    """
    import re

    upper = name.upper()
    found = re.search(r"TM[ _-]?(27|30|33|36|39|42|45)(?!\d)", upper)
    if not found:
        return None
    epsg = _TM_BY_MERIDIAN[int(found.group(1))]
    if "ED50" in upper or "ED_1950" in upper or "ED1950" in upper:
        return f"EPSG:{epsg - 5253 + 2319}"
    return f"EPSG:{epsg}"


def _said_label(file_says: str | None, file_crs: str | CRS) -> str:
    """The file's CRS as the file names it (quoted, with what GDAL read it as) or as GDAL
    read it."""
    label = _crs_label(file_crs)
    return f"'{file_says[:80]}' (GDAL: {label})" if file_says else label


def _crs_label(value: str | CRS) -> str:
    try:
        crs = value if isinstance(value, CRS) else CRS.from_user_input(value)
    except CRSError:
        return str(value)[:60]
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _to_lonlat(bounds: np.ndarray, crs: CRS) -> np.ndarray:
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    xs = np.array([bounds[0], bounds[2], bounds[0], bounds[2]])
    ys = np.array([bounds[1], bounds[1], bounds[3], bounds[3]])
    lon, lat = t.transform(xs, ys)
    return np.array([np.min(lon), np.min(lat), np.max(lon), np.max(lat)])


def _inside(box: np.ndarray, area: tuple[float, float, float, float], margin: float = 0.0) -> bool:
    return bool(np.all(np.isfinite(box)) and box[0] >= area[0] - margin
                and box[1] >= area[1] - margin and box[2] <= area[2] + margin
                and box[3] <= area[3] + margin)


def diagnose_crs(bounds: np.ndarray, crs: CRS, *,
                 municipality_lonlat: tuple[float, float, float, float],
                 file_says: str | None = None) -> list[Diagnostic]:
    """Explain a wrong CRS from the data's bounding box; errors first.

    Parameters
    ----------
    bounds : ndarray
        ``(minx, miny, maxx, maxy)`` of the data in ``crs`` (``total_bounds``).
    crs : pyproj.CRS
        The declared CRS.
    municipality_lonlat : tuple
        The municipality's bounding box in lon/lat.
    file_says : str, optional
        The CRS as the file names it, when GDAL read it as another (quoted in messages).

    Examples
    --------
    >>> from pyproj import CRS
    >>> box = np.array([39.7, 30.5, 39.8, 30.6])  # lat, lon in the wrong order
    >>> [d.code for d in diagnose_crs(box, CRS(4326), municipality_lonlat=(30.3, 39.5, 30.9, 40.0))]
    ['CRS_LATLON_SWAPPED']
    """
    if not np.all(np.isfinite(bounds)):
        return []
    label = _said_label(file_says, crs)
    mun = municipality_lonlat
    if crs.is_geographic:
        if abs(bounds[0]) > 180 or abs(bounds[2]) > 180 or abs(bounds[1]) > 90 \
                or abs(bounds[3]) > 90:
            zone = _zone_that_fits(bounds, mun)
            prefixed = None if zone else diagnose_zone_prefix(bounds, mun)
            if prefixed is not None:  # metres, and with a zone number in front
                return [prefixed]
            hint = f"EPSG:{zone}" if zone else "a TM zone (EPSG:5253/5254/5255)"
            return [Diagnostic("CRS_METRES_AS_DEGREES", "error",
                               "The file says {crs} (degrees) but its coordinates are metres "
                               "(e.g. {x:.0f}, {y:.0f}); declare {hint} with --crs.",
                               {"crs": label, "x": bounds[0], "y": bounds[1], "hint": hint})]
        swapped = np.array([bounds[1], bounds[0], bounds[3], bounds[2]])
        if not _inside(bounds, TURKEY_LONLAT) and _inside(swapped, TURKEY_LONLAT):
            return [Diagnostic("CRS_LATLON_SWAPPED", "error",
                               "Latitude and longitude are swapped: the data lies at "
                               "lon {lon:.3f}, lat {lat:.3f}, but swapped it falls in Türkiye. "
                               "Swap the columns (x = longitude, y = latitude).",
                               {"lon": bounds[0], "lat": bounds[1]})]
    lonlat = _to_lonlat(bounds, crs)
    epsg = crs.to_epsg()
    if _inside(lonlat, mun, margin=0.25):
        # read with the declared CRS the data lies in the municipality: the CRS fits it,
        # even outside the area the CRS is meant for (a neighbouring TM zone, e.g. TM27
        # numbers for a town at 30.5 E, transforms exactly)
        return []
    zone = _zone_that_fits(bounds, mun) if crs.is_projected else None
    if zone and zone != epsg:
        return [Diagnostic("CRS_WRONG_ZONE", "error",
                           "With {crs} the data lies {km:.0f} km from the municipality; "
                           "with EPSG:{zone} it lies inside. Declare --crs EPSG:{zone}.",
                           {"crs": label, "zone": zone, "km": _distance_km(lonlat, mun)})]
    prefixed = diagnose_zone_prefix(bounds, mun) if crs.is_projected else None
    if prefixed is not None:
        return [prefixed]
    area = crs.area_of_use
    if area is not None and not _inside(lonlat, (area.west, area.south, area.east, area.north),
                                        margin=0.5):
        return [Diagnostic("CRS_OUTSIDE_AREA", "error",
                           "The coordinates ({w:.2f}..{e:.2f} E, {s:.2f}..{n:.2f} N) are outside "
                           "the area where {crs} is used ({area}). The declared CRS is wrong.",
                           {"w": lonlat[0], "e": lonlat[2], "s": lonlat[1], "n": lonlat[3],
                            "crs": label, "area": area.name})]
    return []


#: Central meridian of each ITRF96/TUREF 3-degree TM zone.
TM_MERIDIANS = {5253: 27, 5254: 30, 5255: 33, 5256: 36, 5257: 39, 5258: 42, 5259: 45}
#: ED50 3-degree TM zones with the same central meridians (EPSG 2319 TM27 ... 2325 TM45).
ED50_TM = {5253: 2319, 5254: 2320, 5255: 2321, 5256: 2322, 5257: 2323, 5258: 2324, 5259: 2325}


def diagnose_zone_prefix(bounds: np.ndarray, mun: tuple[float, float, float, float]
                         ) -> Diagnostic | None:
    """``CRS_ZONE_PREFIX`` when the eastings carry a zone number in front (Gauss-Krüger
    style: ``10 542 000`` for 542 000 in the zone of 30° E) and, without it, lie in the
    municipality in one of the TM zones; ``None`` otherwise.

    The message says what the numbers look like, what the prefix stands for (the 3-degree
    zone number, the central meridian or the 6-degree UTM zone) and how to place them: a
    ``--crs`` with that false easting, or the eastings without the prefix in the TM zone.

    Examples
    --------
    >>> x, y = 10_542_000.0, 4_402_000.0  # Odunpazari in TM30, zone 10 in front
    >>> d = diagnose_zone_prefix(np.array([x, y, x + 100, y + 100]), (30.1, 39.4, 30.9, 40.2))
    >>> d.code, d.params["prefix"], d.params["zone"]
    ('CRS_ZONE_PREFIX', 10, 5254)
    """
    minx, maxx = float(bounds[0]), float(bounds[2])
    if not (np.isfinite(minx) and np.isfinite(maxx)) or minx < 1_000_000:
        return None
    prefix = int(minx // 1_000_000)
    if int(maxx // 1_000_000) != prefix:
        return None
    rest = np.array([minx - prefix * 1e6, bounds[1], maxx - prefix * 1e6, bounds[3]])
    for epsg, meridian in TM_MERIDIANS.items():
        try:
            box = _to_lonlat(rest, CRS.from_epsg(epsg))
        except (CRSError, ValueError):
            continue
        if not _inside(box, mun, margin=0.25):
            continue
        # what the prefix stands for, in symbols (the same in both languages)
        if prefix * 3 == meridian:  # the 3-degree zone number
            reading = f"{prefix} × 3° = {meridian}° E"
        elif prefix == meridian:  # the central meridian itself
            reading = f"{prefix} = {meridian}° E"
        elif prefix in ((meridian + 180) // 6, (meridian + 180) // 6 + 1):  # the 6-degree zone
            reading = f"UTM {prefix}"
        else:
            reading = "?"
        false_easting = prefix * 1_000_000 + 500_000
        proj = (f"+proj=tmerc +lat_0=0 +lon_0={meridian} +k=1 +x_0={false_easting} +y_0=0 "
                "+ellps=GRS80 +units=m +no_defs")
        return Diagnostic(
            "CRS_ZONE_PREFIX", "error",
            "The eastings are {digits}-digit numbers starting with {prefix} (e.g. {x:.0f}): "
            "Gauss-Krüger eastings with the zone number in front ({reading}). "
            "Without it they lie in the municipality in EPSG:{zone} (TM{meridian}). Declare "
            "--crs \"{proj}\", or take {prefix}000000 off the eastings and declare EPSG:{zone} "
            "(EPSG:{ed50} if the data is ED50).",
            {"digits": len(str(int(minx))), "prefix": prefix, "x": minx, "reading": reading,
             "zone": epsg, "meridian": meridian, "proj": proj, "ed50": ED50_TM[epsg]})
    return None


def _distance_km(lonlat: np.ndarray, mun: tuple[float, float, float, float]) -> float:
    cx, cy = (lonlat[0] + lonlat[2]) / 2, (lonlat[1] + lonlat[3]) / 2
    mx, my = (mun[0] + mun[2]) / 2, (mun[1] + mun[3]) / 2
    return float(np.hypot((cx - mx) * 111.32 * np.cos(np.radians(my)), (cy - my) * 110.57))


def _zone_that_fits(bounds: np.ndarray, mun: tuple[float, float, float, float]) -> int | None:
    for epsg in TM_ZONES.values():
        try:
            box = _to_lonlat(bounds, CRS.from_epsg(epsg))
        except (CRSError, ValueError):
            continue
        if _inside(box, mun, margin=0.25):
            return epsg
    return None


def expected_ed50_shift(*, target_srid: int, x: float, y: float) -> tuple[float, float] | None:
    """Offset (dx, dy) in metres that ED50 coordinates get when read as ITRF96 in ``target_srid``.

    ``None`` for zones without an ED50 counterpart.
    """
    ed50 = ED50_FOR_ITRF96.get(target_srid)
    if ed50 is None:
        return None
    t = Transformer.from_crs(ed50, target_srid, always_xy=True)
    tx, ty = t.transform(x, y)
    return float(tx - x), float(ty - y)


#: Codes of a systematic shift against stored data: errors that refuse the batch unless the
#: sender accepts the shift (``--accept-shift``, or the web form's confirmation).
SHIFT_CODES = ("CRS_ED50_SUSPECTED", "DATA_SHIFTED")
#: A systematic shift is reported above the layer's ``snap_tolerance``, or this many metres
#: when the layer has none.
DEFAULT_SHIFT_TOLERANCE = 1.0


def diagnose_datum_shift(offsets: np.ndarray, expected: tuple[float, float] | None, *,
                         tolerance: float | None = None) -> list[Diagnostic]:
    """Find a systematic shift of the upload against the same features already stored.

    ``offsets`` are the centroid differences (stored minus uploaded, n x 2, metres) of
    features whose key is already in the layer; ``expected`` the ED50 to ITRF96 shift
    there (``None`` in zones without one). A shift is systematic when the median offset is
    over ``tolerance`` (the layer's snap tolerance; :data:`DEFAULT_SHIFT_TOLERANCE`
    when ``None``) and at least 80 % of the features share it (each within a quarter of it,
    or the tolerance). Errors: ``CRS_ED50_SUSPECTED`` when it is the ED50 shift,
    ``DATA_SHIFTED`` otherwise. A re-sent file where a few features were edited has a
    median offset of zero: nothing is found.

    Examples
    --------
    >>> shifted = np.array([[120.0, 150.0]] * 5)
    >>> [d.code for d in diagnose_datum_shift(shifted, (121.0, 149.0))]
    ['CRS_ED50_SUSPECTED']
    >>> [d.code for d in diagnose_datum_shift(shifted / 30, None)]
    ['DATA_SHIFTED']
    >>> diagnose_datum_shift(np.array([[0.0, 0.0]] * 4 + [[9.0, 3.0]]), None)
    []
    """
    if len(offsets) < 3:
        return []
    tol = DEFAULT_SHIFT_TOLERANCE if tolerance is None else max(float(tolerance), 0.01)
    median = np.median(offsets, axis=0)
    size = float(np.hypot(*median))
    if size <= tol:
        return []
    spread = np.hypot(offsets[:, 0] - median[0], offsets[:, 1] - median[1])
    if float(np.mean(spread <= max(tol, 0.25 * size))) < 0.8:
        return []
    # how the upload sits against the stored features (the offsets are stored - uploaded)
    params: dict[str, object] = {"m": size, "dx": -float(median[0]), "dy": -float(median[1]),
                                 "n": len(offsets)}
    if expected is not None:
        exp = np.asarray(expected)
        ed50 = float(np.hypot(*exp))
        if ed50 >= 20 and float(np.hypot(*(median - exp))) < 0.3 * ed50:
            return [Diagnostic("CRS_ED50_SUSPECTED", "error",
                               "The data sits {m:.0f} m from the same features already stored, "
                               "the shift between ED50 and ITRF96: it is probably ED50 (e.g. "
                               "EPSG:2320) declared as ITRF96. Declare its real CRS with --crs; "
                               "send it with --accept-shift only if the stored features are to "
                               "move by {m:.0f} m.", params)]
    return [Diagnostic("DATA_SHIFTED", "error",
                       "The data sits {m:.1f} m ({dx:+.1f} m east, {dy:+.1f} m north) from the "
                       "same {n} features already stored, all in the same direction: a wrong "
                       "CRS, zone or datum? Check the file's CRS; send it with --accept-shift "
                       "only if the stored features are to move by {m:.1f} m.", params)]


def to_storage(frame: gpd.GeoDataFrame, srid: int) -> gpd.GeoDataFrame:
    """Transform ``frame`` to the layer's storage SRID (no-op when already there)."""
    if frame.crs is not None and frame.crs.to_epsg() == srid:
        return frame
    return frame.to_crs(epsg=srid)


# -- field names ---------------------------------------------------------------------
@dataclass
class FieldMatch:
    """How the upload's columns map to the layer's fields."""

    rename: dict[str, str]
    unknown: list[str]
    missing: list[str]
    ambiguous: dict[str, list[str]]


def load_mapping(path: Path | None) -> dict[str, str]:
    """Read a YAML mapping ``{source column: layer field}`` (or ``{fields: {...}}``)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise UploadRefused("MAPPING_INVALID", "The mapping file '{name}' cannot be read: "
                            "{reason}", name=Path(path).name, reason=reason) from None
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        data = data["fields"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in data.items()):
        raise UploadRefused("MAPPING_INVALID", "The mapping file '{name}' must map column "
                            "names to field names.", name=Path(path).name)
    return dict(data)


def match_fields(columns: list[str], field_names: list[str], *,
                 mapping: dict[str, str] | None = None) -> FieldMatch:
    """Match columns to fields ignoring case, spaces and Turkish diacritics.

    Examples
    --------
    >>> m = match_fields(["MAHALLE_ADI", "Kat Sayısı", "xyz"], ["mahalle_adi", "kat_sayisi"])
    >>> m.rename, m.unknown
    ({'MAHALLE_ADI': 'mahalle_adi', 'Kat Sayısı': 'kat_sayisi'}, ['xyz'])
    """
    mapping = mapping or {}
    by_key = {field_key(name): name for name in field_names}
    mapped_keys = {field_key(k): v for k, v in mapping.items()}
    rename: dict[str, str] = {}
    claims: dict[str, list[str]] = {}
    unknown: list[str] = []
    for column in columns:
        key = field_key(column)
        target = mapping.get(column) or mapped_keys.get(key) or by_key.get(key)
        if target is None or target not in field_names:
            unknown.append(column)
            continue
        claims.setdefault(target, []).append(column)
        rename[column] = target
    ambiguous = {t: cols for t, cols in claims.items() if len(cols) > 1}
    for cols in ambiguous.values():
        for col in cols[1:]:
            rename.pop(col, None)
            unknown.append(col)
    missing = [name for name in field_names if name not in rename.values()]
    return FieldMatch(rename=rename, unknown=unknown, missing=missing, ambiguous=ambiguous)
