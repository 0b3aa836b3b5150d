"""Read department uploads: GeoPackage, zipped Shapefile, GeoJSON, CSV, KML, DXF, and
spreadsheets (XLSX, ODS) with coordinate or WKT columns or with attributes only.

:func:`open_upload` checks the file (see :mod:`etl.safety`), sniffs its format
from magic bytes (never from the name alone), unpacks archives into the work
folder, detects a Shapefile's encoding when it has no ``.cpg``, and inspects
it in a child process. :func:`read_chunks` then yields GeoDataFrames of at most
``chunk_size`` features, each parsed in a limited child process, with the
original 0-based feature number as index.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from etl.errors import UploadRefused
from etl.normalise import Diagnostic
from etl.safety import (
    ALLOWED_DRIVERS,
    Limits,
    Pending,
    check_nesting,
    check_path,
    max_bracket_depth,
    max_text_depth,
    run_limited,
    safe_extract,
    start_limited,
)

#: Candidate encodings for a Shapefile without ``.cpg`` (Turkish offices).
CANDIDATE_ENCODINGS = ("utf-8", "cp1254", "iso-8859-9", "cp857", "cp1252")
TURKISH_LETTERS = frozenset("çğıöşüÇĞİÖŞÜ")
#: Letters that decode from Turkish bytes under the wrong code page.
IMPLAUSIBLE = frozenset("ýðþÝÐÞ¦¤¬¯±³¹²º¿×÷") | frozenset(chr(c) for c in range(0x80, 0xA0))

#: A sample's WKT values longer than this are not parsed to tell the CRS (one huge polygon
#: must not cost the suggestion its time; ``--crs`` or a file with a CRS does it then).
SAMPLE_WKT_CHARS = 200_000
WKT_COLUMNS = ("wkt", "geom", "geometry", "the_geom", "geometri", "wkb", "wkt_geom",
               "geom_wkt", "geometri_wkt")
#: Coordinate column pairs by their folded names (:func:`etl.textnorm.field_key`), the
#: easting-like one first. Turkish surveyors write ``Y`` (sağa) for the easting and ``X``
#: (yukarı) for the northing; which of ``x``/``y`` is which is decided from the values.
LON_COLUMNS = ("lon", "lng", "long", "longitude", "boylam", "x", "x_koordinati",
               "koordinat_x", "easting", "saga", "saga_deger", "saga_degeri", "dogu", "e")
LAT_COLUMNS = ("lat", "latitude", "enlem", "y", "y_koordinati", "koordinat_y", "northing",
               "yukari", "yukari_deger", "yukari_degeri", "kuzey", "n")
#: Spreadsheet formats (read into a CSV text in the work folder, then read as CSV).
SPREADSHEETS = ("xlsx", "ods")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class SourceInfo:
    """What was found in an upload, before any feature is read."""

    original: Path
    dataset: Path
    format: str
    driver: str
    layer: str | None = None
    encoding: str | None = None
    encoding_note: str = ""
    crs: str | None = None
    feature_count: int = 0
    fields: list[str] = field(default_factory=list)
    geometry_type: str | None = None
    #: CSV only: the geometry source columns (``wkt``, or ``lon``/``lat``; ``swap`` when the
    #: columns hold northing/easting in that order); empty for an attribute-only table.
    csv_geometry: dict[str, str] = field(default_factory=dict)
    #: CSV (and spreadsheets) only: the delimiter (``None``: sniffed).
    csv_delimiter: str | None = None
    #: A table with no coordinate or WKT column: its rows carry attributes only.
    attributes_only: bool = False
    #: Spreadsheets: the sheet read.
    sheet: str | None = None
    #: Tables: ``crs`` was told from the coordinates' values (``CRS_ASSUMED``; reported
    #: unless the sender declared a CRS).
    crs_assumed: Diagnostic | None = None
    #: The CRS as the file itself names it, when GDAL read it as another CRS (a GeoJSON
    #: ``crs`` member GDAL does not know is read as WGS 84): quoted in messages.
    crs_text: str | None = None
    #: Findings about the file itself (e.g. ``ENCODING_MISMATCH``), reported as warnings.
    diagnostics: list[Diagnostic] = field(default_factory=list)


# -- encoding --------------------------------------------------------------------
def score_encoding(raw: bytes, encoding: str) -> float:
    """Score how plausible ``raw`` is as Turkish text in ``encoding`` (higher is better)."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return float("-inf")
    turkish = sum(1 for ch in text if ch in TURKISH_LETTERS)
    odd = sum(1 for ch in text if ch in IMPLAUSIBLE or ch == "\ufffd")
    return turkish - 3.0 * odd


def detect_encoding(raw: bytes) -> tuple[str, str]:
    """Pick the encoding of non-ASCII Turkish text; return ``(encoding, note)``.

    Only the bytes outside ASCII decide. Windows-1254 and ISO-8859-9 put the
    Turkish letters on the same bytes and differ only in 0x80-0x9F, so a file
    with no byte there is reported as Windows-1254 with that remark.

    Examples
    --------
    >>> detect_encoding("Yenidoğan Şişli".encode("cp1254"))[0]
    'cp1254'
    >>> detect_encoding("Yenidoğan".encode("utf-8"))[0]
    'utf-8'
    """
    high = bytes(b for b in raw if b >= 0x80) if len(raw) < 1 << 16 else None
    if high is None:
        arr = np.frombuffer(raw, dtype=np.uint8)
        if not (arr >= 0x80).any():
            return "utf-8", "ASCII only"
    elif not high:
        return "utf-8", "ASCII only"
    scores = {enc: score_encoding(raw, enc) for enc in CANDIDATE_ENCODINGS}
    if scores["utf-8"] > float("-inf"):
        return "utf-8", "valid UTF-8"
    best = max(scores, key=lambda enc: scores[enc])
    if best in ("cp1254", "iso-8859-9"):
        arr = np.frombuffer(raw, dtype=np.uint8)
        if ((arr >= 0x80) & (arr < 0xA0)).any():
            return "cp1254", "Windows-1254 (bytes 0x80-0x9F in use)"
        return "cp1254", "Windows-1254 (same as ISO-8859-9 for these bytes)"
    return best, f"best score {scores[best]:.0f}"


#: Readable names of the encodings (for messages).
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1254": "Windows-1254 (Turkish)",
                  "iso-8859-9": "ISO-8859-9 (Latin-5, Turkish)", "cp857": "CP857 (DOS Turkish)",
                  "cp1252": "Windows-1252 (Western European)"}


def cpg_encoding(text: str) -> str | None:
    """The Python codec a ``.cpg`` names (``None``: not one Python knows).

    Examples
    --------
    >>> [cpg_encoding(t) for t in ("UTF-8", "65001", "1254", "ANSI 1254", "8859_9", "x")]
    ['utf-8', 'utf-8', 'cp1254', 'cp1254', 'iso8859-9', None]
    """
    import codecs

    name = text.strip().lower().replace("ansi", "").strip()
    if name.isdigit():
        name = "utf-8" if name == "65001" else f"cp{name}"
    elif name.startswith("8859"):
        name = "iso8859-" + name[4:].lstrip("_-")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _turkish_letters(raw: bytes, encoding: str) -> tuple[list[str], int]:
    """The distinct Turkish letters ``raw`` holds in ``encoding`` and how many implausible
    characters it holds (``([], -1)`` when it is not that encoding at all)."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return [], -1
    letters = sorted({ch for ch in text if ch in TURKISH_LETTERS})
    return letters, sum(1 for ch in text if ch in IMPLAUSIBLE or ch == "\ufffd")


def check_declared_encoding(raw: bytes, declared: str, *, name: str
                            ) -> tuple[str | None, Diagnostic | None]:
    """Compare the encoding a ``.cpg`` declares with the DBF's bytes.

    Returns ``(None, None)`` when the bytes fit the declaration; ``(encoding, warning)``
    when they do not but clearly are another encoding (Turkish letters and nothing
    implausible in it): the file is read in that one, with an ``ENCODING_MISMATCH``
    warning that says so.

    Raises
    ------
    UploadRefused
        ``ENCODING_MISMATCH`` when the bytes fit neither the declaration nor, clearly,
        any candidate encoding.

    Examples
    --------
    >>> check_declared_encoding("Ağaç".encode("cp1254"), "utf-8", name="a.zip")[0]
    'cp1254'
    >>> check_declared_encoding("Ağaç".encode(), "utf-8", name="a.zip")
    (None, None)
    >>> check_declared_encoding("Işık".encode("cp1254"), "cp1252", name="a.zip")[0]
    'cp1254'
    >>> check_declared_encoding("Işık ±5".encode("cp1254"), "iso8859-9", name="a.zip")
    (None, None)
    >>> check_declared_encoding("Fiyat ±5 ¿".encode("cp1252"), "cp1252", name="a.zip")
    (None, None)
    """
    if max(raw, default=0) < 0x80:  # ASCII is every candidate alike
        return None, None
    guessed, _note = detect_encoding(raw)
    if guessed == declared or {guessed, declared} <= {"cp1254", "iso8859-9"}:
        return None, None  # (the two Turkish code pages share the letters' bytes)
    # it fits when it decodes to nothing implausible (Western code pages turn Turkish
    # letters into ý ð þ); valid UTF-8 under a one-byte declaration is UTF-8 all the same
    decodes = _turkish_letters(raw, declared)[1]  # -1: does not decode
    single_byte = not declared.startswith("utf")
    if decodes == 0 and not (single_byte and guessed == "utf-8"):
        return None, None
    letters, odd = _turkish_letters(raw, guessed)
    params: dict[str, object] = {
        "name": name, "declared": ENCODING_NAMES.get(declared, declared),
        "guessed": ENCODING_NAMES.get(guessed, guessed), "letters": " ".join(letters)}
    clear = odd == 0 and (bool(letters) or guessed == "utf-8")
    if not clear and decodes > 0:  # it decodes as declared: kept so, as GDAL reads it
        return None, None
    if not clear:
        raise UploadRefused("ENCODING_MISMATCH", "The .cpg of '{name}' says its text is "
                            "{declared}, but the bytes are not {declared}; they look most like "
                            "{guessed}, but not clearly. Correct the .cpg (e.g. 1254 for "
                            "Windows-1254, UTF-8) and send the file again.", **params)
    return guessed, Diagnostic(
        "ENCODING_MISMATCH", "warning",
        "The .cpg of '{name}' says its text is {declared}, but the bytes are not {declared}: "
        "they are {guessed} (Turkish letters {letters}), and were read as {guessed}. Check the "
        "names in the report, and correct the .cpg.", params)


def geojson_crs_name(path: Path, window: int = 1 << 16) -> str | None:
    """The CRS a GeoJSON file's (2008) ``crs`` member names, read from the file's first
    and last ``window`` bytes (``None`` when there is none).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".geojson", delete=False) as f:
    ...     _ = f.write('{"type": "FeatureCollection", "crs": {"type": "name", "properties":'
    ...                 ' {"name": "TUREF_TM30_ITRF96"}}, "features": []}')
    >>> geojson_crs_name(Path(f.name))
    'TUREF_TM30_ITRF96'
    """
    import re

    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(window)
        handle.seek(max(size - window, len(head)))
        tail = handle.read(window)
    for chunk in (head, tail):
        text = chunk.decode("utf-8", errors="replace")
        for found in re.finditer(r'"crs"\s*:\s*\{', text):
            end = text.find("}", text.find("}", found.end()) + 1)  # {"properties": {...}}
            try:
                member = json.loads(text[found.end() - 1:end + 1])
            except ValueError:
                continue
            props = member.get("properties") if isinstance(member, dict) else None
            if not isinstance(props, dict):
                continue
            if props.get("name"):
                return str(props["name"])
            if props.get("code"):
                return f"EPSG:{props['code']}"
            if props.get("href"):
                return str(props["href"])
    return None


def _crs_as_read(says: str, read: str | None) -> str | None:
    """``says`` when GDAL read the file's CRS as something else (``None``: as written)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if read is None:
        return says
    try:
        same = CRS.from_user_input(says).equals(CRS.from_user_input(read),
                                                ignore_axis_order=True)
    except CRSError:
        same = False
    return None if same else says


def _dbf_records(dbf: Path, limit: int = 4 << 20) -> bytes:
    with open(dbf, "rb") as handle:
        header = handle.read(32)
        if len(header) < 32:
            return b""
        header_len = int.from_bytes(header[8:10], "little")
        handle.seek(header_len)
        return handle.read(limit)


# -- sniffing --------------------------------------------------------------------
def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(n)


def sniff(path: Path) -> str:
    """Return the format from magic bytes: zip, gpkg, geojson, kml, dxf, csv.

    Refuses VRT and other XML indirection (``INDIRECTION``), a bare ``.shp``
    (needs its ``.dbf``/``.prj``: upload a zip), SQLite that is not a
    GeoPackage and anything else (``NOT_GEODATA``).
    """
    head = _head(path)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    if head.startswith(CFB_MAGIC):
        _refuse_compound(path)
    if head.startswith(b"SQLite format 3\x00"):
        if len(head) >= 72 and head[68:72] in (b"GPKG", b"GP10", b"GP11"):
            return "gpkg"
        raise UploadRefused("NOT_GEODATA", "'{name}' is an SQLite database but not a GeoPackage.",
                            name=path.name)
    if head[:4] == b"\x00\x00\x27\x0a":
        raise UploadRefused("NOT_GEODATA", "'{name}' is a bare .shp; upload the Shapefile as a "
                            ".zip with its .dbf, .shx, .prj (and .cpg).", name=path.name)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    lowered = text[:2048].lower()
    if lowered.startswith(b"<"):
        if b"<ogrvrtdatasource" in lowered or b"<vrtdataset" in lowered:
            raise UploadRefused("INDIRECTION", "'{name}' is a GDAL VRT (a pointer to other files); "
                                "upload the data itself.", name=path.name)
        if b"<kml" in lowered:
            return "kml"
        raise UploadRefused("NOT_GEODATA", "'{name}' is XML but not KML.", name=path.name)
    if lowered.startswith((b"{", b"[")):
        return "geojson"
    if lowered.startswith(b"autocad binary dxf"):
        return "dxf"
    first_lines = lowered.replace(b"\r", b"").split(b"\n")[:2]
    if len(first_lines) == 2 and first_lines[0].strip() == b"0" and (
            first_lines[1].strip() == b"section"):
        return "dxf"
    if b"\x00" not in head and path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return "csv"
    raise UploadRefused("NOT_GEODATA", "'{name}' is not a geodata format KentCBS reads "
                        "(GeoPackage, zipped Shapefile, GeoJSON, CSV, KML, DXF, XLSX, ODS).",
                        name=path.name)


def _zip_kind(path: Path) -> str:
    """``xlsx`` or ``ods`` for an Office Open XML or OpenDocument spreadsheet, else ``zip``
    (only the archive's directory and its small ``mimetype`` entry are read)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                return "xlsx"
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    kind = entry.read(128).strip()
                if kind == ODS_MIMETYPE:
                    if "META-INF/manifest.xml" in names:
                        with archive.open("META-INF/manifest.xml") as entry:
                            manifest = entry.read(1 << 20)
                        if b"encryption-data" in manifest:
                            raise UploadRefused(
                                "PASSWORD_PROTECTED", "'{name}' is protected with a password; "
                                "save it again without a password and send it again.",
                                name=path.name)
                    return "ods"
                if kind.startswith(b"application/vnd.oasis.opendocument"):
                    raise UploadRefused("NOT_GEODATA", "'{name}' is an OpenDocument file but "
                                        "not a spreadsheet.", name=path.name)
            if "word/document.xml" in names or "ppt/presentation.xml" in names:
                raise UploadRefused("NOT_GEODATA", "'{name}' is an Office document but not a "
                                    "spreadsheet.", name=path.name)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        pass  # an archive read later (and refused there if damaged)
    return "zip"


def _refuse_compound(path: Path) -> None:
    """Refuse an OLE compound file: a password-protected Office file (Excel keeps an
    encrypted XLSX in one) or an old Excel 97-2003 workbook (.xls)."""
    import msoffcrypto
    from msoffcrypto.exceptions import FileFormatError

    try:
        with open(path, "rb") as handle:
            encrypted = msoffcrypto.OfficeFile(handle).is_encrypted()
    except (FileFormatError, OSError, ValueError, AssertionError, KeyError,
            IndexError, TypeError):
        encrypted = False
    if encrypted:
        raise UploadRefused("PASSWORD_PROTECTED", "'{name}' is protected with a password; "
                            "save it again without a password and send it again.",
                            name=path.name)
    raise UploadRefused("NOT_GEODATA", "'{name}' is an old Office file (Excel 97-2003 .xls or "
                        "similar); save it as .xlsx (Excel) or .ods and send it again.",
                        name=path.name)


def _pick_from_archive(files: list[Path], archive: Path) -> tuple[Path, str]:
    by_ext: dict[str, list[Path]] = {}
    for f in files:
        by_ext.setdefault(f.suffix.lower(), []).append(f)
    shps = by_ext.get(".shp", [])
    if len(shps) == 1:
        shp = shps[0]
        if not shp.with_suffix(".dbf").exists() and not shp.with_suffix(".DBF").exists():
            raise UploadRefused("NOT_GEODATA", "The Shapefile in '{name}' has no .dbf.",
                                name=archive.name)
        return shp, "shapefile"
    if len(shps) > 1:
        raise UploadRefused("NOT_GEODATA", "'{name}' holds {n} Shapefiles; send one per upload.",
                            name=archive.name, n=len(shps))
    for f in files:
        if f.suffix.lower() in (".vrt", ".ovr"):
            raise UploadRefused("INDIRECTION", "'{name}' contains a VRT ('{entry}').",
                                name=archive.name, entry=f.name)
    candidates = [f for f in files if f.suffix.lower() in
                  (".gpkg", ".geojson", ".json", ".kml", ".dxf", ".csv")]
    if len(candidates) == 1:
        inner = sniff(candidates[0])
        if inner == "zip":
            raise UploadRefused("ZIP_NESTED", "The archive contains another archive.")
        return candidates[0], inner
    raise UploadRefused("NOT_GEODATA", "'{name}' holds no single dataset KentCBS reads.",
                        name=archive.name)


# -- inspection in the child -------------------------------------------------------
def _inspect(dataset: str, encoding: str | None) -> dict[str, object]:
    layers = pyogrio.list_layers(dataset)
    if len(layers) == 0:
        raise UploadRefused("NOT_GEODATA", "The file holds no layer.")
    layer = str(layers[0][0])
    info = pyogrio.read_info(dataset, layer=layer, encoding=encoding, force_feature_count=True)
    return {"layer": layer, "driver": info["driver"], "crs": info["crs"],
            "count": int(info["features"]), "fields": [str(f) for f in info["fields"]],
            "geometry_type": info["geometry_type"], "encoding": info.get("encoding")}


def _csv_text(path: Path) -> tuple[str, str, str]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    encoding, note = detect_encoding(raw)
    return raw.decode(encoding, errors="replace"), encoding, note


def _csv_frame(path: str, geometry: dict[str, str], crs: str | None,
               encoding: str, delimiter: str | None = None) -> gpd.GeoDataFrame:
    raw = Path(path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode(encoding, errors="replace")
    sep = delimiter or csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str,
                        keep_default_na=False, na_values=[""])
    if "wkt" in geometry:
        col = geometry["wkt"]
        values = frame.pop(col).to_numpy(dtype=object)
        geoms = _parse_wkt_or_wkb(values)
    elif "lon" in geometry:
        lon = numbers(frame.pop(geometry["lon"])).to_numpy()
        lat = numbers(frame.pop(geometry["lat"])).to_numpy()
        if geometry.get("swap"):
            lon, lat = lat, lon
        geoms = shapely.points(lon, lat)
        geoms[np.isnan(lon) | np.isnan(lat)] = None
    else:  # attributes only
        geoms = np.full(len(frame), None, dtype=object)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=crs)


def numbers(series: pd.Series) -> pd.Series:
    """Numbers from text as Turkish offices write them: a decimal comma (``30,512``), a
    thousands dot with a decimal comma (``4.412.345,67``), or a decimal point; NaN where it
    is no number.

    Examples
    --------
    >>> numbers(pd.Series(["30,512", "4.412.345,67", "39.7", "x", None])).tolist()
    [30.512, 4412345.67, 39.7, nan, nan]
    """
    text = series.astype("string").str.strip()
    both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
    text = text.where(~both.fillna(False), text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _parse_wkt_or_wkb(values: np.ndarray) -> np.ndarray:
    """WKT, or hex WKB; unparsable or truncated values become None (reported per feature)."""
    texts = np.array([v if isinstance(v, str) else None for v in values], dtype=object)
    stripped = np.array([t.strip() if t else None for t in texts], dtype=object)
    is_hex = np.array([bool(t) and all(c in "0123456789abcdefABCDEF" for c in t[:64])
                       and len(t) % 2 == 0 for t in stripped])
    out = np.empty(len(values), dtype=object)
    out[:] = None
    if (~is_hex).any():
        out[~is_hex] = shapely.from_wkt(stripped[~is_hex], on_invalid="ignore")
    if is_hex.any():
        out[is_hex] = shapely.from_wkb(stripped[is_hex], on_invalid="ignore")
    return out


@dataclass
class ParsedChunk:
    """A chunk as the parser child sends it: attributes, and geometries as WKB, made into
    shapely geometries once in the parent (one vectorised ``from_wkb``) instead of being
    made in the child and pickled object by object."""

    frame: pd.DataFrame
    wkb: np.ndarray
    geometry_name: str
    crs: str | None

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        geoms = shapely.from_wkb(self.wkb, on_invalid="ignore")
        return gpd.GeoDataFrame(self.frame, geometry=gpd.GeoSeries(
            geoms, index=self.frame.index, name=self.geometry_name), crs=self.crs)


def _read_chunk(dataset: str, layer: str | None, encoding: str | None, skip: int,
                count: int) -> ParsedChunk:
    """Parse one chunk (in the limited child): GDAL reads the features; their geometries
    travel as the WKB GDAL wrote, made into shapely geometries once, in the parent
    (``from_wkb``, where unreadable WKB becomes a missing geometry: ``GEOM_EMPTY``).
    Attributes are converted as ``pyogrio.read_dataframe`` converts them."""
    try:
        from pyogrio.geopandas import _try_parse_datetime
    except ImportError:  # pyogrio changed: the public reader, and WKB written by GEOS
        frame = pyogrio.read_dataframe(dataset, layer=layer, encoding=encoding,
                                       skip_features=skip, max_features=count,
                                       on_invalid="ignore")
        name = frame.geometry.name
        crs = frame.crs.to_wkt() if frame.crs is not None else None
        return ParsedChunk(pd.DataFrame(frame.drop(columns=name)),
                           shapely.to_wkb(frame.geometry.to_numpy()), name, crs)
    meta, _fids, wkb, values = pyogrio.raw.read(
        dataset, layer=layer, encoding=encoding, skip_features=skip, max_features=count,
        datetime_as_string=True)
    names = [str(f) for f in meta["fields"]]
    # the row count from the geometries too: a file without attribute fields has rows
    rows = len(wkb) if wkb is not None else (len(values[0]) if len(values) else 0)
    data = pd.DataFrame(dict(zip(names, values, strict=True)), columns=names,
                        index=pd.RangeIndex(rows))
    for dtype, name in zip(meta["dtypes"], names, strict=True):
        if str(dtype).startswith("datetime"):
            data[name] = _try_parse_datetime(data[name], False, True)
    for subtype, name in zip(meta["ogr_subtypes"], names, strict=True):
        if subtype == "OFSTJSON" and pd.api.types.infer_dtype(data[name]) == "string":
            with contextlib.suppress(ValueError):
                data[name] = data[name].map(json.loads, na_action="ignore")
    if wkb is None:
        wkb = np.full(len(data), None, dtype=object)
    return ParsedChunk(data, wkb, "geometry", meta["crs"])


# -- public API ------------------------------------------------------------------------
def open_upload(path: Path, *, workdir: Path, limits: Limits | None = None) -> SourceInfo:
    """Check, sniff, unpack and inspect an upload.

    Parameters
    ----------
    path : Path
        The uploaded file (a single file; Shapefiles come zipped).
    workdir : Path
        The upload's own work folder; archives are unpacked under it, nothing
        is written anywhere else.
    limits : Limits, optional
        Resource caps (default: from settings).

    Returns
    -------
    SourceInfo
        Dataset path, format, driver, layer, encoding, CRS, feature count.

    Raises
    ------
    UploadRefused
        With a reason code (see :mod:`etl.safety`).
    """
    limits = limits or Limits.from_settings()
    original = check_path(path, limits=limits)
    fmt = sniff(original)
    dataset = original
    if fmt == "zip":
        files = safe_extract(original, workdir / "unpacked", limits=limits)
        dataset, fmt = _pick_from_archive(files, original)
        check_path(dataset, limits=limits)
    if fmt == "geojson":
        check_nesting(max_bracket_depth(dataset, b"[{", b"]}"), limits=limits, name=original.name)
    info = SourceInfo(original=original, dataset=dataset, format=fmt, driver="")
    if fmt == "csv":
        return _open_csv(info, limits=limits)
    if fmt in SPREADSHEETS:
        return _open_sheet(info, workdir=workdir, limits=limits)
    if fmt == "shapefile":
        cpg = next((p for p in dataset.parent.iterdir()
                    if p.stem == dataset.stem and p.suffix.lower() == ".cpg"), None)
        dbf = next((p for p in dataset.parent.iterdir()
                    if p.stem == dataset.stem and p.suffix.lower() == ".dbf"), None)
        if cpg is not None:
            info.encoding = None
            said = cpg.read_text(errors="replace").strip()[:40]
            info.encoding_note = f"from .cpg ({said})"
            declared = cpg_encoding(said)
            if declared is not None and dbf is not None:
                found, warning = check_declared_encoding(_dbf_records(dbf), declared,
                                                         name=original.name)
                if warning is not None:
                    info.encoding = found
                    info.encoding_note = f"detected; the .cpg says {said}"
                    info.diagnostics.append(warning)
        elif dbf is not None:
            info.encoding, info.encoding_note = detect_encoding(_dbf_records(dbf))
            info.encoding_note = "detected: " + info.encoding_note
    meta = run_limited(_inspect, str(dataset), info.encoding, limits=limits, what=original.name)
    driver = str(meta["driver"])
    if driver not in ALLOWED_DRIVERS:
        raise UploadRefused("DRIVER_REFUSED", "'{name}' opens with the GDAL driver {driver}, "
                            "which uploads may not use.", name=original.name, driver=driver)
    info.driver = driver
    info.layer = str(meta["layer"])
    info.crs = meta["crs"] if meta["crs"] else None  # type: ignore[assignment]
    info.feature_count = int(meta["count"])  # type: ignore[call-overload]
    info.fields = list(meta["fields"])  # type: ignore[call-overload]
    info.geometry_type = str(meta["geometry_type"]) if meta["geometry_type"] else None
    if info.encoding is None and meta.get("encoding"):
        info.encoding_note = info.encoding_note or f"from the file ({meta['encoding']})"
    if info.encoding is None and fmt != "shapefile":
        info.encoding_note = info.encoding_note or "UTF-8 (format default)"
    if info.geometry_type is None:
        raise UploadRefused("NOT_GEODATA", "'{name}' has no geometry.", name=original.name)
    if fmt == "geojson":
        says = geojson_crs_name(dataset)
        info.crs_text = _crs_as_read(says, info.crs) if says else None
    return info


def _open_csv(info: SourceInfo, *, limits: Limits) -> SourceInfo:
    text, encoding, note = _csv_text(info.dataset)
    info.encoding, info.encoding_note = encoding, "detected: " + note
    try:
        if info.csv_delimiter is None:
            info.csv_delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        reader = csv.reader(io.StringIO(text[:1 << 20]), delimiter=info.csv_delimiter)
        header = next(reader)
        sample = [row for _, row in zip(range(SAMPLE_ROWS), reader, strict=False)]
    except (csv.Error, StopIteration):
        raise UploadRefused("NOT_GEODATA", "'{name}' is not a readable CSV table.",
                            name=info.original.name) from None
    return _table_geometry(info, header, sample, limits=limits)


#: Rows of a table read to tell degrees from TM metres.
SAMPLE_ROWS = 200


#: Words that name one axis wherever they stand in a header (``Boylam (derece)``,
#: ``Y (Sağa)``, ``X Yukarı``): easting-like, then northing-like.
EAST_WORDS = frozenset({"boylam", "lon", "longitude", "saga", "easting", "dogu"})
NORTH_WORDS = frozenset({"enlem", "lat", "latitude", "yukari", "northing", "kuzey"})


def _pick_column(header: list[str], names: tuple[str, ...],
                 words: frozenset[str] = frozenset(),
                 other: frozenset[str] = frozenset()) -> str | None:
    """The first column whose folded name is one of ``names`` (in their order), else the
    first whose name holds one of ``words`` and none of ``other``.

    Examples
    --------
    >>> _pick_column(["No", "Y (Sağa)", "X (Yukarı)"], LON_COLUMNS, EAST_WORDS, NORTH_WORDS)
    'Y (Sağa)'
    >>> _pick_column(["No", "Y (Sağa)", "X (Yukarı)"], LAT_COLUMNS, NORTH_WORDS, EAST_WORDS)
    'X (Yukarı)'
    """
    from etl.textnorm import field_key

    by_key: dict[str, str] = {}
    for column in header:
        by_key.setdefault(field_key(column), column)
    found = next((by_key[n] for n in names if n in by_key), None)
    if found is not None or not words:
        return found
    for key, column in by_key.items():
        tokens = set(key.split("_"))
        if tokens & words and not tokens & other:
            return column
    return None


def _table_geometry(info: SourceInfo, header: list[str], sample: list[list[str]], *,
                    limits: Limits) -> SourceInfo:
    """Find a table's geometry columns (WKT, or a coordinate pair) and, for coordinates
    in a file that names no CRS, the CRS the numbers are in: longitude/latitude degrees
    (EPSG:4326) or metres in the municipality's TM zone (reported as ``CRS_ASSUMED``). A
    table with neither is read with its attributes only (``attributes_only``)."""
    wkt = _pick_column(header, WKT_COLUMNS)
    lon = _pick_column(header, LON_COLUMNS, EAST_WORDS, NORTH_WORDS)
    lat = _pick_column(header, LAT_COLUMNS, NORTH_WORDS, EAST_WORDS)
    if wkt:
        info.csv_geometry = {"wkt": wkt}
        if info.format == "csv":
            check_nesting(max_bracket_depth(info.dataset, b"(", b")"), limits=limits,
                          name=info.original.name)
        # a WKT column names no CRS either (the XLSX template's is in the layer's zone):
        # its coordinates tell degrees from TM metres, as a coordinate pair's do
        at = header.index(wkt)
        texts = [row[at] for row in sample if at < len(row) and row[at]]
        if texts and max(len(t) for t in texts) <= SAMPLE_WKT_CHARS:
            geoms = _parse_wkt_or_wkb(np.array(texts, dtype=object))
            points = shapely.get_coordinates(geoms[~shapely.is_missing(geoms)])
            if len(points):
                _assume_crs(info, points[:, 0], points[:, 1], wkt, "")
                if info.csv_geometry.pop("swap", None):  # WKT is easting first
                    info.crs, info.crs_assumed = None, None
    elif lon and lat and lon != lat:
        info.csv_geometry = {"lon": lon, "lat": lat}
        position = {c: i for i, c in enumerate(header)}
        values = [[row[position[c]] if position[c] < len(row) else "" for row in sample]
                  for c in (lon, lat)]
        xs = numbers(pd.Series(values[0], dtype=object)).to_numpy()
        ys = numbers(pd.Series(values[1], dtype=object)).to_numpy()
        _assume_crs(info, xs, ys, lon, lat)
    else:
        info.attributes_only = True
        info.csv_geometry = {}
    info.driver = "CSV"
    info.fields = [h for h in header if h not in info.csv_geometry.values()]
    info.geometry_type = "None" if info.attributes_only else "Unknown"
    info.feature_count = -1  # known after the read
    return info


def _assume_crs(info: SourceInfo, xs: np.ndarray, ys: np.ndarray, lon: str, lat: str) -> None:
    """Tell degrees from TM metres from the sample's medians; set ``info.crs`` (and
    ``swap`` when the first column holds the northings) with a ``CRS_ASSUMED`` warning.
    Numbers that are neither leave the CRS unknown (``CRS_MISSING`` unless ``--crs``)."""
    from django.conf import settings

    ok = ~(np.isnan(xs) | np.isnan(ys))
    if not ok.any():
        return
    x, y = float(np.median(xs[ok])), float(np.median(ys[ok]))
    columns = f"{lon}, {lat}" if lat else lon
    zone = int(settings.KENTCBS_SRID)
    tail = (" If they are in another CRS, send the file again with that CRS (e.g. --crs "
            "EPSG:5254).")
    if -180 <= x <= 180 and -90 <= y <= 90:
        info.crs = "EPSG:4326"
        message = ("The file names no coordinate reference system; its coordinates ({columns}) "
                   "are longitude/latitude degrees and were read as {crs}.")
    elif 100_000 <= x <= 900_000 and 3_500_000 <= y <= 4_800_000:
        info.crs = f"EPSG:{zone}"
        message = ("The file names no coordinate reference system; its coordinates ({columns}) "
                   "are metres in the municipality's TM zone and were read as {crs}.")
    elif 100_000 <= y <= 900_000 and 3_500_000 <= x <= 4_800_000:
        info.crs = f"EPSG:{zone}"
        info.csv_geometry["swap"] = "1"
        message = ("The file names no coordinate reference system; its coordinates ({columns}) "
                   "are metres in the municipality's TM zone, northing first (X = yukarı, "
                   "Y = sağa, as surveyors write them), and were read as {crs}.")
    else:
        return
    info.crs_assumed = Diagnostic("CRS_ASSUMED", "warning", message + tail,
                                  {"columns": columns, "crs": info.crs})


def require_geometry(info: SourceInfo, layer: Any) -> None:
    """Refuse an attribute-only table for a layer whose features need a geometry
    (``NOT_GEODATA``, naming the columns seen)."""
    if info.attributes_only and layer.geometry_rules.not_empty:
        raise UploadRefused(
            "NOT_GEODATA", "No coordinate columns were found in '{name}' (lon/lat, "
            "boylam/enlem, x/y) and no WKT column; the layer {layer} needs a geometry. Columns "
            "seen: {columns}.", name=info.original.name, layer=layer.code,
            columns=", ".join(info.fields) or "-")


def table_crs(info: SourceInfo, declared: str | None, report: Any) -> str | None:
    """The file's CRS for :func:`etl.normalise.resolve_crs`: a CRS told from a table's
    values counts only when the sender declared none (then reported as ``CRS_ASSUMED``)."""
    if info.crs_assumed is None:
        return info.crs
    if declared:
        return None
    report.diagnostics.append(info.crs_assumed.as_dict())
    return info.crs


# -- spreadsheets -----------------------------------------------------------------------
def _cell_text(value: Any) -> str:
    """A cell's value as text: whole numbers without ``.0``, dates as ISO dates."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else
                value.isoformat(sep=" "))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return _cell_text(value.to_pydatetime())
    return str(value).strip()


def _xlsx_rows(path: str) -> Iterator[tuple[str, Iterator[tuple[Any, ...]], list[str]]]:
    """Each sheet's name, its rows of cached values, and the cells that hold a formula
    without a cached value (a file written by a program that does not compute them)."""
    import openpyxl

    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in values.worksheets:
            uncached: list[str] = []
            source = formulas[sheet.title]

            def rows(sheet: Any = sheet, source: Any = source,
                     uncached: list[str] = uncached) -> Iterator[tuple[Any, ...]]:
                for number, (row, frow) in enumerate(zip(
                        sheet.iter_rows(values_only=True),
                        source.iter_rows(values_only=True), strict=False), start=1):
                    for col, (value, formula) in enumerate(zip(row, frow, strict=False)):
                        if value is None and isinstance(formula, str) and formula.startswith("="):
                            from openpyxl.utils import get_column_letter

                            uncached.append(f"{get_column_letter(col + 1)}{number}")
                    yield row

            yield sheet.title, rows(), uncached
    finally:
        values.close()
        formulas.close()


def _ods_rows(path: str) -> Iterator[tuple[str, Iterator[tuple[Any, ...]], list[str]]]:
    """Each sheet of an OpenDocument spreadsheet (pandas' ``odf`` engine: the values the
    file stores, formulas' included)."""
    sheets = pd.read_excel(path, engine="odf", sheet_name=None, header=None, dtype=object)
    for name, frame in sheets.items():
        rows = (tuple(None if (isinstance(v, float) and np.isnan(v)) else v for v in row)
                for row in frame.itertuples(index=False, name=None))
        yield str(name), rows, []


def sheet_to_csv(path: str, fmt: str, out: str) -> dict[str, Any]:
    """Write the first sheet with data (a header row and at least one row under it) as a
    UTF-8 CSV at ``out`` (in the parser child); return its name, header and row count.

    Raises
    ------
    UploadRefused
        ``SHEET_EMPTY`` when no sheet holds data; ``FORMULA_NO_VALUE`` when cells hold
        formulas without a saved value; ``NOT_GEODATA`` when the file cannot be read.
    """
    import zipfile

    try:
        sheets = _xlsx_rows(path) if fmt == "xlsx" else _ods_rows(path)
        seen: list[str] = []
        for name, rows, uncached in sheets:
            seen.append(name)
            header: list[str] | None = None
            written = 0
            with open(out, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                for row in rows:
                    texts = [_cell_text(v) for v in row]
                    while texts and not texts[-1]:
                        texts.pop()
                    if not any(texts):
                        continue
                    if header is None:
                        header = _header(texts)
                        writer.writerow(header)
                        continue
                    writer.writerow((texts + [""] * len(header))[:len(header)])
                    written += 1
            if uncached:
                raise UploadRefused(
                    "FORMULA_NO_VALUE", "Sheet '{sheet}' of '{name}' has formulas without a "
                    "saved value (cells {cells}); open the file in Excel or LibreOffice Calc, "
                    "save it, and send it again (or paste the values in place of the "
                    "formulas).", sheet=name, name=Path(path).name,
                    cells=", ".join(uncached[:10]) + (" ..." if len(uncached) > 10 else ""))
            if header is not None and written:
                return {"sheet": name, "header": header, "rows": written}
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError,
            AttributeError, IndexError) as exc:
        raise UploadRefused("NOT_GEODATA", "'{name}' cannot be read as a spreadsheet: "
                            "{reason}", name=Path(path).name,
                            reason=str(exc).splitlines()[0][:200] if str(exc) else
                            type(exc).__name__) from None
    raise UploadRefused("SHEET_EMPTY", "No sheet of '{name}' holds data (a header row and at "
                        "least one row under it); sheets: {sheets}.", name=Path(path).name,
                        sheets=", ".join(seen) or "-")


def _header(texts: list[str]) -> list[str]:
    """Column names from a header row: blanks named ``sutun_N``, repeats numbered."""
    out: list[str] = []
    for number, text in enumerate(texts, start=1):
        name = text or f"sutun_{number}"
        while name in out:
            name = f"{name}_{number}"
        out.append(name)
    return out


def _open_sheet(info: SourceInfo, *, workdir: Path, limits: Limits) -> SourceInfo:
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "sheet.csv"
    meta = run_limited(sheet_to_csv, str(info.dataset), info.format, str(out), limits=limits,
                       what=info.original.name)
    info.sheet = str(meta["sheet"])
    info.dataset = out
    info.csv_delimiter = ","
    with open(out, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sample = [row for _, row in zip(range(SAMPLE_ROWS), reader, strict=False)]
    _table_geometry(info, header, sample, limits=limits)
    info.encoding, info.encoding_note = "utf-8", f"{info.format.upper()} sheet '{info.sheet}'"
    return info


def read_chunks(info: SourceInfo, *, crs: str | None = None, chunk_size: int = 200_000,
                sizes: list[int] | None = None,
                limits: Limits | None = None) -> Iterator[gpd.GeoDataFrame]:
    """Yield the upload's features in chunks, each parsed in a limited child process.

    Each chunk's index is the 0-based feature number in the file. ``crs``
    (e.g. ``EPSG:5254``) is used when the file declares none. Chunks hold
    ``chunk_size`` features, or the given ``sizes`` one after the other (then
    ``chunk_size`` for any features left).
    """
    with contextlib.closing(read_chunks_with_wkb(info, crs=crs, chunk_size=chunk_size,
                                                 sizes=sizes, limits=limits)) as chunks:
        for chunk, _wkb in chunks:
            yield chunk


def read_chunks_with_wkb(info: SourceInfo, *, crs: str | None = None,
                         chunk_size: int = 200_000, sizes: list[int] | None = None,
                         limits: Limits | None = None
                         ) -> Generator[tuple[gpd.GeoDataFrame, np.ndarray | None]]:
    """:func:`read_chunks`, each chunk with its geometries' WKB as GDAL wrote it (``None``
    for a CSV): the loader sends it as it is for the geometries that stay unchanged."""
    limits = limits or Limits.from_settings()
    if info.format == "csv" or info.format in SPREADSHEETS:
        frame = run_limited(_csv_frame, str(info.dataset), info.csv_geometry, crs,
                            info.encoding or "utf-8", info.csv_delimiter, limits=limits,
                            what=info.original.name)
        info.feature_count = len(frame)
        for start in range(0, len(frame), chunk_size):
            chunk = frame.iloc[start:start + chunk_size]
            yield chunk, None
        return
    counts: list[int] = []
    for size in [*(sizes or []), *([chunk_size] * (-(-info.feature_count // chunk_size)))]:
        if sum(counts) >= info.feature_count:
            break
        counts.append(min(size, info.feature_count - sum(counts)))
    starts = [sum(counts[:i]) for i in range(len(counts))]

    def launch(number: int) -> Pending[ParsedChunk]:
        return start_limited(_read_chunk, str(info.dataset), info.layer, info.encoding,
                             starts[number], counts[number], limits=limits,
                             what=info.original.name)

    # The next chunk is parsed in its child while the caller validates and loads this one.
    pending = launch(0) if starts else None
    try:
        for number, skip in enumerate(starts):
            assert pending is not None
            parsed = pending.result()
            pending = launch(number + 1) if number + 1 < len(starts) else None
            chunk = parsed.to_geodataframe()
            chunk.index = pd.RangeIndex(skip, skip + len(chunk))
            if chunk.crs is None and crs:
                chunk = chunk.set_crs(crs)
            yield chunk, parsed.wkb
    finally:
        if pending is not None:
            pending.cancel()


def wkt_depth(values: np.ndarray) -> int:
    """Deepest parenthesis nesting of WKT values (for callers that hold WKT text)."""
    return max_text_depth(values)
