"""Validate features against their layer's standard, vectorised.

Every rule has a code and a severity (``error`` rejects the feature,
``warning`` keeps it). Problems are rows of a DataFrame (one per feature and
rule), never exceptions; messages are rendered later (:mod:`etl.messages`) in
Turkish and English. Geometry checks use shapely 2's array functions and an
STRtree; no Python loop over features touches a geometry.

Cross-chunk state (keys and geometries already seen in the file) lives in a
:class:`FileState` so that chunks can be validated one after the other.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.util import hash_array

from etl.textnorm import fold

PROBLEM_COLUMNS = ["feature", "code", "severity", "field", "value", "detail", "suggestion"]
ERROR, WARNING = "error", "warning"

SINGLE_OF = {"MultiPolygon": "Polygon", "MultiLineString": "LineString", "MultiPoint": "Point"}
MULTI_OF = {v: k for k, v in SINGLE_OF.items()}
TRUE_VALUES = {"1", "true", "t", "yes", "y", "evet", "e", "doğru", "dogru"}
FALSE_VALUES = {"0", "false", "f", "no", "n", "hayir", "hayır", "h", "yanlış", "yanlis"}


@dataclass
class FileState:
    """What earlier chunks of the same file contributed (for in-file uniqueness)."""

    seen: dict[str, set[str]] = field(default_factory=dict)
    geom_hashes: pd.Index = field(default_factory=lambda: pd.Index([], dtype="uint64"))
    #: Earlier chunks' checkable polygons (GEOM_OVERLAP across chunks): one entry per chunk.
    polygons: list[ChunkPolygons] = field(default_factory=list)


@dataclass
class ChunkPolygons:
    """One earlier chunk's checked polygons, their feature numbers, extent and STRtree;
    ``alive`` is False for the chunk's own duplicates (in the tree, never matched)."""

    geoms: np.ndarray
    features: np.ndarray
    bounds: tuple[float, float, float, float]
    tree: shapely.STRtree
    alive: np.ndarray


@dataclass
class ValidationResult:
    """Outcome for one chunk."""

    frame: gpd.GeoDataFrame  # coerced values, geometry as it will be stored
    problems: pd.DataFrame  # PROBLEM_COLUMNS
    repaired: gpd.GeoSeries  # make_valid() of invalid geometries (offered, not applied)

    @property
    def rejected(self) -> np.ndarray:
        """Feature numbers with at least one error."""
        errs = self.problems[self.problems["severity"] == ERROR]
        return np.unique(errs["feature"].to_numpy(dtype=np.int64))


def _problems(features: Any, code: str, severity: str, *, field_name: str = "",
              value: Any = None, detail: Any = "", suggestion: Any = "") -> pd.DataFrame:
    idx = np.asarray(features, dtype=np.int64)
    n = len(idx)

    def col(v: Any) -> Any:
        if isinstance(v, (np.ndarray, pd.Series, list)):
            return [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
                    for x in v]
        return [v] * n if n else []

    return pd.DataFrame({"feature": idx, "code": code, "severity": severity,
                         "field": field_name, "value": col(value), "detail": col(detail),
                         "suggestion": col(suggestion)}, columns=PROBLEM_COLUMNS)


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "feature" else "object")
                         for c in PROBLEM_COLUMNS})


# -- attributes ------------------------------------------------------------------------
def coerce(series: pd.Series, kind: str) -> pd.Series:
    """Convert raw values (text already stripped) to ``kind``; values that do not convert
    become NA."""
    if kind in ("string", "text"):
        return series.astype("string").replace("", pd.NA)
    if kind == "integer":
        num = pd.to_numeric(_decimal_comma(series), errors="coerce")
        whole = num.notna() & (num % 1 == 0)
        return num.where(whole).astype("Int64")
    if kind == "decimal":
        return pd.to_numeric(_decimal_comma(series), errors="coerce").astype("Float64")
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(series):
            return series.astype("boolean")
        text = series.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[text.isin(TRUE_VALUES).fillna(False).astype(bool)] = True
        out[text.isin(FALSE_VALUES).fillna(False).astype(bool)] = False
        return out
    if kind == "date":
        return pd.to_datetime(series, errors="coerce", format="mixed", dayfirst=True).dt.date
    if kind == "datetime":
        return pd.to_datetime(series, errors="coerce", format="mixed", dayfirst=True)
    raise ValueError(kind)


def _decimal_comma(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.astype("string").str.strip().str.replace(",", ".", regex=False)
    return series


def closest(value: str, choices: list[str]) -> str:
    """Closest valid value, compared on diacritic-folded text.

    Examples
    --------
    >>> closest("Yenidogan", ["Yenidoğan", "Yeşiltepe"])
    'Yenidoğan'
    """
    folded = {fold(c): c for c in choices}
    key = fold(str(value))
    if key in folded:
        return folded[key]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else ""


def _allowed_values(fdef: Any) -> list[str] | None:
    if fdef.enum is not None:
        return [str(v) for v in fdef.enum]
    if fdef.codelist:
        from layers.codelists import codelist

        entries = codelist(fdef.codelist)
        return [e.code for e in entries]
    return None


def check_attributes(frame: pd.DataFrame, layer: Any, state: FileState,
                     unique_lookup: Callable[[str, list[Any]], pd.DataFrame] | None = None
                     ) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Coerce the layer's fields and check REQUIRED, TYPE, CODELIST, PATTERN, RANGE,
    MAX_LENGTH, UNIQUE_IN_FILE and UNIQUE_IN_DB; return the coerced frame and problems.

    ``unique_lookup(field, values)`` returns stored rows (columns ``value`` and
    the key fields) whose ``field`` has one of ``values``.
    """
    out: list[pd.DataFrame] = []
    coerced = pd.DataFrame(index=frame.index)
    features = frame.index.to_numpy()
    for fdef in layer.fields:
        name = fdef.name
        if _measure(fdef) is not None:  # filled from the geometry: the upload's value is moot
            coerced[name] = pd.Series(pd.NA, index=frame.index, dtype="Float64")
            continue
        raw = frame[name] if name in frame.columns else pd.Series(pd.NA, index=frame.index)
        text_kind = fdef.type in ("string", "text")
        if raw.dtype == object or pd.api.types.is_string_dtype(raw):
            raw = _stripped(raw)  # once, blanks as NA; coerce() sees stripped text
            values = raw if text_kind else coerce(raw, fdef.type)  # text: coerced already
        else:
            values = coerce(raw, fdef.type)
        blank = raw.isna().to_numpy(dtype=bool)
        coerced[name] = values
        # text values are the stripped ones: missing exactly where blank
        missing = blank if values is raw else values.isna().to_numpy(dtype=bool)
        bad_type = ~blank & missing
        if bad_type.any():
            out.append(_problems(features[bad_type], "TYPE", ERROR, field_name=name,
                                 value=raw[bad_type].to_numpy(), detail=fdef.type))
        if fdef.required and not fdef.computed and blank.any():
            out.append(_problems(features[blank], "REQUIRED", ERROR, field_name=name))
        present = ~missing
        if not present.any():
            continue
        allowed = _allowed_values(fdef)
        if allowed is not None:
            text = values.astype("string")
            bad = present & ~text.isin(allowed).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                wrong = text[bad].to_numpy()
                cache = {v: closest(v, allowed) for v in set(wrong)}
                out.append(_problems(features[bad], "CODELIST", ERROR, field_name=name,
                                     value=wrong, detail=fdef.codelist or "enum",
                                     suggestion=[cache[v] for v in wrong]))
        # the values as text, "" where missing (those are not ``present``): read in C by map
        texts = (values.astype("string").to_numpy(dtype=object, na_value="")
                 if fdef.pattern or fdef.max_length else None)
        if fdef.pattern and texts is not None:
            pattern = re.compile(fdef.pattern)
            # a match is true; read one by one (no list of match objects kept alive)
            ok = np.fromiter(map(pattern.fullmatch, texts), dtype=bool, count=len(texts))
            bad = present & ~ok
            if bad.any():
                out.append(_problems(features[bad], "PATTERN", ERROR, field_name=name,
                                     value=values[bad].to_numpy(), detail=fdef.pattern))
        if fdef.min is not None or fdef.max is not None:
            num = values.astype("Float64")
            low = num < fdef.min if fdef.min is not None else pd.Series(False, index=num.index)
            high = num > fdef.max if fdef.max is not None else pd.Series(False, index=num.index)
            bad = (low | high).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                out.append(_problems(features[bad], "RANGE", ERROR, field_name=name,
                                     value=values[bad].to_numpy(),
                                     detail=f"{fdef.min if fdef.min is not None else ''}.."
                                            f"{fdef.max if fdef.max is not None else ''}"))
        if fdef.max_length and texts is not None:
            bad = present & (np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
                             > fdef.max_length)
            if bad.any():
                out.append(_problems(features[bad], "MAX_LENGTH", ERROR, field_name=name,
                                     value=values[bad].to_numpy(), detail=fdef.max_length))
    out += _check_unique(coerced, layer, state, unique_lookup)
    return coerced, out


def _stripped(series: pd.Series) -> pd.Series:
    """``series.astype("string").str.strip()`` with blanks (empty once stripped) as NA,
    in one list comprehension instead of pandas' per-value lambdas (~3x faster); other
    values are made text by ``pd.array`` as ``astype("string")`` makes them.

    Examples
    --------
    >>> _stripped(pd.Series([" a ", None, 3, "  ", float("nan")])).tolist()
    ['a', <NA>, '3', <NA>, <NA>]
    """
    values = series.to_numpy(dtype=object)
    out = pd.array([(v.strip() or None) if type(v) is str else v for v in values],
                   dtype="string")
    return pd.Series(out, index=series.index, name=series.name)


def _key_strings(frame: pd.DataFrame, names: list[str]) -> pd.Series:
    if len(names) == 1 and isinstance(frame[names[0]].dtype, pd.StringDtype):
        # a text key as it is (NA as NUL): no pandas fillna pass over a copy
        column = frame[names[0]]
        return pd.Series(column.to_numpy(dtype=object, na_value="\x00"), index=column.index,
                         dtype=object)
    parts = [frame[n].astype("string").fillna("\x00") for n in names]
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key


def _check_unique(coerced: pd.DataFrame, layer: Any, state: FileState,
                  unique_lookup: Callable[[str, list[Any]], pd.DataFrame] | None
                  ) -> list[pd.DataFrame]:
    out: list[pd.DataFrame] = []
    features = coerced.index.to_numpy()
    groups: list[tuple[str, list[str]]] = [("+".join(layer.key), list(layer.key))]
    groups += [(f.name, [f.name]) for f in layer.fields if f.unique and [f.name] != layer.key]
    for label, names in groups:
        present = coerced[names].notna().all(axis=1).to_numpy(dtype=bool)
        keys = _key_strings(coerced, names)
        seen = state.seen.setdefault(label, set())  # earlier chunks' keys
        texts = keys.to_numpy(dtype=object)
        earlier = np.fromiter(map(seen.__contains__, texts), dtype=bool, count=len(texts))
        dup = present & (keys.duplicated(keep="first").to_numpy(dtype=bool) | earlier)
        if dup.any():
            out.append(_problems(features[dup], "UNIQUE_IN_FILE", ERROR, field_name=label,
                                 value=keys[dup].str.replace("\x1f", ", ").to_numpy()))
        seen.update(texts[present & ~dup].tolist())
    if unique_lookup is not None:
        key_text: pd.Series | None = None
        for fdef in layer.fields:
            if not fdef.unique or [fdef.name] == list(layer.key):
                continue
            if key_text is None:
                key_text = _key_strings(coerced, list(layer.key))
            vals = coerced[fdef.name]
            mask = vals.notna().to_numpy(dtype=bool)
            if not mask.any():
                continue
            stored = unique_lookup(fdef.name, vals[mask].astype(str).unique().tolist())
            if stored.empty:
                continue
            owner = dict(zip(stored["value"].astype(str),
                             _key_strings(stored, list(layer.key)), strict=True))
            text = vals.astype("string")
            stored_key = text.map(owner)
            clash = mask & stored_key.notna().to_numpy(dtype=bool) & (
                stored_key != key_text).fillna(False).to_numpy(dtype=bool)
            if clash.any():
                out.append(_problems(features[clash], "UNIQUE_IN_DB", ERROR,
                                     field_name=fdef.name, value=text[clash].to_numpy()))
    return out


# -- geometry ------------------------------------------------------------------------------
def check_geometry(geoms: np.ndarray, features: np.ndarray, layer: Any, state: FileState, *,
                   boundary: Any = None) -> tuple[np.ndarray, np.ndarray, list[pd.DataFrame]]:
    """Check geometry rules; return (geometry to store, repaired offer, problems).

    Rules: GEOM_EMPTY, GEOM_TYPE, GEOM_INVALID (with ``is_valid_reason`` and a
    ``make_valid`` repair offered), OUTSIDE_MUNICIPALITY, BELOW_MIN_AREA,
    BELOW_MIN_LENGTH, GEOM_DUPLICATE, GEOM_OVERLAP (STRtree, in the file).
    Single-part multi geometries are accepted on single layers (first part) and
    single geometries on multi layers (stored with ``ST_Multi``).
    """
    rules = layer.geometry_rules
    out: list[pd.DataFrame] = []
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    if empty.any():
        sev = ERROR if rules.not_empty else WARNING
        out.append(_problems(features[empty], "GEOM_EMPTY", sev))
    want = layer.geometry_type
    types = np.array(shapely.get_type_id(geoms))
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)
    tname = np.where(types >= 0, names[np.clip(types, 0, 7)], "")
    ok_type = (tname == want) | (tname == MULTI_OF.get(want, "-")) | (tname == SINGLE_OF.get(
        want, "-"))
    if want in MULTI_OF:  # single layer: a multi geometry with one part is taken as its part
        is_multi = tname == MULTI_OF[want]
        parts = shapely.get_num_geometries(geoms)
        ok_type &= ~(is_multi & (parts != 1))
        single = is_multi & (parts == 1)
        if single.any():
            geoms = geoms.copy()
            geoms[single] = shapely.get_geometry(geoms[single], 0)
    bad_type = ~empty & ~ok_type
    if bad_type.any():
        out.append(_problems(features[bad_type], "GEOM_TYPE", ERROR, value=tname[bad_type],
                             detail=want))
    usable = ~empty & ok_type
    repaired = np.full(len(geoms), None, dtype=object)
    valid = shapely.is_valid(geoms)
    invalid = usable & ~valid
    if invalid.any() and rules.valid:
        reasons = shapely.is_valid_reason(geoms[invalid])
        repaired[invalid] = shapely.make_valid(geoms[invalid])
        out.append(_problems(features[invalid], "GEOM_INVALID", ERROR, detail=reasons,
                             suggestion=shapely.to_wkt(repaired[invalid], rounding_precision=3)))
    checkable = usable & valid
    if boundary is not None and rules.within_municipality and checkable.any():
        shapely.prepare(boundary)
        inside = shapely.covered_by(geoms, boundary)
        touching = shapely.intersects(geoms, boundary)
        outside = checkable & ~touching
        partly = checkable & touching & ~inside
        if outside.any():
            out.append(_problems(features[outside], "OUTSIDE_MUNICIPALITY", ERROR))
        if partly.any():
            out.append(_problems(features[partly], "OUTSIDE_MUNICIPALITY", WARNING,
                                 detail="partly"))
    if rules.min_area is not None:
        area = shapely.area(geoms)
        small = checkable & (area < rules.min_area)
        if small.any():
            out.append(_problems(features[small], "BELOW_MIN_AREA", ERROR,
                                 value=np.round(area[small], 2), detail=rules.min_area))
    if rules.min_length is not None:
        length = shapely.length(geoms)
        short = checkable & (length < rules.min_length)
        if short.any():
            out.append(_problems(features[short], "BELOW_MIN_LENGTH", ERROR,
                                 value=np.round(length[short], 2), detail=rules.min_length))
    polygon_overlap = rules.no_overlap and want in ("Polygon", "MultiPolygon")
    if checkable.any() and polygon_overlap:  # duplicates come out of the overlap's STRtrees
        out += _check_overlap(geoms, features, checkable, state,
                              tol=(rules.snap_tolerance or 0.0) ** 2)
    elif checkable.any():
        idx = np.flatnonzero(checkable)
        wkb = shapely.to_wkb(shapely.normalize(geoms[idx]))
        hashes = pd.Index(hash_array(wkb.astype(object)))
        dup = pd.Series(hashes).duplicated(keep="first").to_numpy() | hashes.isin(
            state.geom_hashes)
        if dup.any():
            out.append(_problems(features[idx[dup]], "GEOM_DUPLICATE", ERROR))
        state.geom_hashes = state.geom_hashes.append(hashes[~dup])
        checkable[idx[dup]] = False
    return geoms, repaired, out


def _interiors_meet(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Pairwise: do the interiors of ``a[i]`` and ``b[i]`` intersect (by more than ``tol`` m²)?"""
    interiors = shapely.relate_pattern(a, b, "T********")
    if tol > 0 and interiors.any():
        area = shapely.area(shapely.intersection(a[interiors], b[interiors]))
        keep = np.zeros(len(interiors), dtype=bool)
        keep[np.flatnonzero(interiors)] = area > tol
        interiors = keep
    return np.asarray(interiors, dtype=bool)


def _same(a: np.ndarray, b: np.ndarray, box_a: np.ndarray, box_b: np.ndarray) -> np.ndarray:
    """Pairwise: is ``a[i]`` the same geometry as ``b[i]`` (equal once normalised)? Only
    pairs with equal bounding boxes are normalised and compared."""
    same = (box_a == box_b).all(axis=1)
    if same.any():
        maybe = np.flatnonzero(same)
        same[maybe] = shapely.equals_exact(shapely.normalize(a[maybe]),
                                           shapely.normalize(b[maybe]), tolerance=0)
    return same


def _check_overlap(geoms: np.ndarray, features: np.ndarray, checkable: np.ndarray,
                   state: FileState, *, tol: float) -> list[pd.DataFrame]:
    """GEOM_DUPLICATE and GEOM_OVERLAP of polygons, within this chunk (one STRtree) and
    against every earlier chunk's polygons (their STRtrees, queried only with the features
    inside that chunk's extent). Of two equal polygons the later is a duplicate (and takes
    no further part); of two whose interiors intersect, the later overlaps."""
    idx = np.flatnonzero(checkable)
    sub = geoms[idx]
    box = shapely.bounds(sub)
    earlier_pairs: list[tuple[ChunkPolygons, np.ndarray, np.ndarray]] = []
    dup = np.zeros(len(sub), dtype=bool)
    for earlier in state.polygons:
        minx, miny, maxx, maxy = earlier.bounds
        near = np.flatnonzero((box[:, 0] <= maxx) & (box[:, 2] >= minx)
                              & (box[:, 1] <= maxy) & (box[:, 3] >= miny))
        if not len(near):
            continue
        mine, theirs = earlier.tree.query(sub[near])  # bounding boxes meet
        alive = earlier.alive[theirs]
        mine, theirs = mine[alive], theirs[alive]
        meets = shapely.intersects(sub[near[mine]], earlier.geoms[theirs])
        mine, theirs = mine[meets], theirs[meets]
        if len(mine):
            mine = near[mine]
            dup[mine[_same(sub[mine], earlier.geoms[theirs], box[mine],
                           shapely.bounds(earlier.geoms[theirs]))]] = True
            earlier_pairs.append((earlier, mine, theirs))
    tree = shapely.STRtree(sub)
    left, right = tree.query(sub)  # bounding boxes meet (each polygon meets itself)
    pair = left < right
    left, right = left[pair], right[pair]
    meets = shapely.intersects(sub[left], sub[right])
    left, right = left[meets], right[meets]
    if len(left):
        dup[right[_same(sub[left], sub[right], box[left], box[right])]] = True
    found: list[tuple[np.ndarray, np.ndarray]] = []  # (later feature, earlier feature)
    for earlier, mine, theirs in earlier_pairs:
        keep = ~dup[mine]
        mine, theirs = mine[keep], theirs[keep]
        meet = _interiors_meet(sub[mine], earlier.geoms[theirs], tol)
        found.append((features[idx[mine[meet]]], earlier.features[theirs[meet]]))
    keep = ~dup[left] & ~dup[right]
    left, right = left[keep], right[keep]
    if len(left):
        meet = _interiors_meet(sub[left], sub[right], tol)
        found.append((features[idx[right[meet]]], features[idx[left[meet]]]))
    out: list[pd.DataFrame] = []
    if dup.any():
        out.append(_problems(features[idx[dup]], "GEOM_DUPLICATE", ERROR))
        checkable[idx[dup]] = False
    if (~dup).any():  # the tree is kept as it is; its duplicates are marked dead
        state.polygons.append(ChunkPolygons(geoms=sub, features=features[idx],
                                            bounds=tuple(shapely.total_bounds(sub[~dup])),
                                            tree=tree, alive=~dup))
    later = np.concatenate([f[0] for f in found]) if found else np.empty(0, dtype=np.int64)
    if len(later):
        other = np.concatenate([f[1] for f in found])
        out.append(_problems(later, "GEOM_OVERLAP", ERROR, detail=other).drop_duplicates(
            "feature"))
    return out


def _measure(fdef: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The shapely measure filling a computed field (by its unit), if there is one."""
    if not fdef.computed or fdef.type not in ("decimal", "integer"):
        return None
    unit = (fdef.unit or "").lower().replace("²", "2")
    return {"m2": shapely.area, "m": shapely.length}.get(unit)


def computed_values(fdef: Any, geoms: np.ndarray) -> np.ndarray | None:
    """The value KentCBS computes for a ``computed`` field, or ``None`` if it computes none.

    Area (``unit: m2``) or length (``unit: m``) in the storage CRS (the municipality's TM
    zone, metres), rounded to centimetres; ``NaN`` where there is no geometry.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> computed_values(SimpleNamespace(computed=True, unit="m2", type="decimal"),
    ...                 np.array([shapely.box(0, 0, 10, 20)]))
    array([200.])
    """
    measure = _measure(fdef)
    if measure is None:
        return None
    values = measure(geoms)
    values = np.where(shapely.is_missing(geoms), np.nan, values)
    return np.round(values, 0 if fdef.type == "integer" else 2)


def validate_chunk(frame: gpd.GeoDataFrame, layer: Any, state: FileState, *,
                   boundary: Any = None,
                   unique_lookup: Callable[[str, list[Any]], pd.DataFrame] | None = None
                   ) -> ValidationResult:
    """Validate one chunk (already in the storage CRS, fields renamed).

    Parameters
    ----------
    frame : GeoDataFrame
        Features, index = feature number in the file.
    layer : LayerDefinition
        The layer's standard.
    state : FileState
        Carries in-file uniqueness between chunks.
    boundary : shapely geometry, optional
        Municipality boundary in the storage CRS (OUTSIDE_MUNICIPALITY).
    unique_lookup : callable, optional
        Stored values of unique fields (UNIQUE_IN_DB).

    Returns
    -------
    ValidationResult
    """
    # geometry checks in a thread while the attributes are checked here: GEOS releases the
    # GIL, so they use the CPU that pandas (holding it) leaves idle
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="etl-geom") as pool:
        checking = pool.submit(check_geometry, frame.geometry.to_numpy(),
                               frame.index.to_numpy(), layer, state, boundary=boundary)
        coerced, problems = check_attributes(frame, layer, state, unique_lookup)
        geoms, repaired, geom_problems = checking.result()
    problems += geom_problems
    for fdef in layer.fields:  # computed fields: KentCBS's value replaces the upload's
        values = computed_values(fdef, geoms)
        if values is not None:
            coerced[fdef.name] = pd.array(values, dtype="Int64" if fdef.type == "integer"
                                          else "Float64")
    result = gpd.GeoDataFrame(coerced, geometry=gpd.GeoSeries(geoms, index=frame.index,
                                                              crs=frame.crs), crs=frame.crs)
    table = pd.concat(problems, ignore_index=True) if problems else empty_problems()
    return ValidationResult(frame=result, problems=table,
                            repaired=gpd.GeoSeries(repaired, index=frame.index, crs=frame.crs))
