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
import functools
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

#: One row per feature and rule. ``feature`` is the 0-based feature number in the file (reports
#: show it 1-based, as QGIS numbers rows), ``key`` the feature's key value; ``other`` and
#: ``other_key`` name the other feature of a pair (GEOM_DUPLICATE, GEOM_OVERLAP); ``hint`` is
#: a rule's extra finding (CODELIST: the district whose official neighbourhood the value is).
PROBLEM_COLUMNS = ["feature", "key", "code", "severity", "field", "value", "detail",
                   "suggestion", "other", "other_key", "hint"]
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
    #: The feature number of each of ``geom_hashes`` (named by a later duplicate).
    geom_features: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    #: Each earlier chunk's feature numbers and key texts (the other feature of a pair).
    keys: list[ChunkKeys] = field(default_factory=list)
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
              value: Any = None, detail: Any = "", suggestion: Any = "", other: Any = None,
              hint: Any = "") -> pd.DataFrame:
    idx = np.asarray(features, dtype=np.int64)
    n = len(idx)

    def col(v: Any) -> Any:
        if isinstance(v, (np.ndarray, pd.Series, list)):
            return [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
                    for x in v]
        return [v] * n if n else []

    others = pd.array([None] * n if other is None else np.asarray(other, dtype=np.int64),
                      dtype="Int64")
    return pd.DataFrame({"feature": idx, "key": [None] * n, "code": code, "severity": severity,
                         "field": field_name, "value": col(value), "detail": col(detail),
                         "suggestion": col(suggestion), "other": others,
                         "other_key": [None] * n, "hint": col(hint)}, columns=PROBLEM_COLUMNS)


def empty_problems() -> pd.DataFrame:
    dtypes = {"feature": "int64", "other": "Int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in PROBLEM_COLUMNS})


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


#: How alike (``difflib`` ratio of the folded texts) a valid value must be to be suggested:
#: a typo or a missing Turkish letter (``Yenidoan``, 0.94; ``GOKMEYDANI``, 0.95) is, a
#: different word with a shared ending (``Batıkent`` / ``Yenikent``, 0.63) is not.
SUGGEST_CUTOFF = 0.8
#: Words that name the kind of place, not the place (``Yenidoğan Mahallesi``, ``Emek Mh.``).
_PLACE_WORDS = re.compile(r"\b(mahallesi|mahalle|mah|mh|koyu|koy)\b\.?")


def _compare_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _PLACE_WORDS.sub(" ", fold(text)))


def closest(value: str, choices: list[str], *, cutoff: float = SUGGEST_CUTOFF) -> str:
    """The valid value ``value`` was probably meant to be, or ``""`` when none is alike.

    Compared on diacritic-folded text without spaces, punctuation or the word
    ``Mahallesi``; a value is suggested only when it is at least ``cutoff`` alike.

    Examples
    --------
    >>> closest("Yenidogan", ["Yenidoğan", "Yeşiltepe"])
    'Yenidoğan'
    >>> closest("Yenidoğan Mah.", ["Yenidoğan"]), closest("Batıkent", ["Yenikent"])
    ('Yenidoğan', '')
    """
    folded = {_compare_key(c): c for c in choices}
    key = _compare_key(str(value))
    if key in folded:
        return folded[key]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=cutoff)
    return folded[match[0]] if match else ""


@functools.cache
def _districts_by_name(province: str) -> dict[str, tuple[str, ...]]:
    from layers.codelists import official_neighbourhoods

    found: dict[str, set[str]] = {}
    for district, names in official_neighbourhoods(province).items():
        for name in names:
            found.setdefault(_compare_key(name), set()).add(district)
    return {key: tuple(sorted(districts)) for key, districts in found.items()}


def districts_with_neighbourhood(name: str, *, profile: str) -> list[str]:
    """The other districts of ``profile``'s province that have an official neighbourhood
    called ``name`` (compared as :func:`closest` compares), as ``"District (Province)"``;
    empty when there is none, when ``name`` is also one of the profile's own district, or
    when the province is not shipped.

    Examples
    --------
    >>> districts_with_neighbourhood("Batıkent", profile="odunpazari")
    ['Tepebaşı (Eskişehir)']
    >>> districts_with_neighbourhood("Yenidoğan Mahallesi", profile="odunpazari")
    []
    """
    from gis_core.errors import KentCBSError
    from gis_core.profiles import get_profile

    try:
        own = get_profile(profile)
    except KentCBSError:
        return []
    districts = _districts_by_name(own.province).get(_compare_key(name), ())
    if own.name in districts:
        return []
    return [f"{district} ({own.province})" for district in districts]


def _neighbourhood_elsewhere(values: set[str]) -> dict[str, str]:
    """``{value: "District (Province)"}`` for values that are an official neighbourhood name
    of another district of the municipality's province."""
    from django.conf import settings

    found: dict[str, str] = {}
    profile = str(getattr(settings, "KENTCBS_PROFILE", ""))
    for value in values:
        districts = districts_with_neighbourhood(value, profile=profile)
        if districts:
            found[value] = ", ".join(districts)
    return found


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
                elsewhere = (_neighbourhood_elsewhere({v for v, c in cache.items() if not c})
                             if fdef.codelist == "mahalle" else {})
                out.append(_problems(features[bad], "CODELIST", ERROR, field_name=name,
                                     value=wrong, detail=fdef.codelist or "enum",
                                     suggestion=[cache[v] for v in wrong],
                                     hint=[elsewhere.get(v, "") for v in wrong]))
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
    # the other rules look at an invalid geometry as repaired (every rule a feature breaks is
    # reported, not only the first); where, and overlaps, only when a repair of the layer's
    # type exists (``make_valid`` may give lines or points for a polygon)
    checked = geoms
    offered = np.zeros(len(geoms), dtype=bool)
    if invalid.any():
        made = shapely.make_valid(geoms[invalid])
        offer = repair_of_type(made, want)
        has = np.fromiter((g is not None for g in offer), dtype=bool, count=len(offer))
        repaired[invalid] = offer
        offered[invalid] = has
        if rules.valid:
            reasons = shapely.is_valid_reason(geoms[invalid])
            wkt = np.full(len(offer), "", dtype=object)
            if has.any():
                wkt[has] = shapely.to_wkt(offer[has], rounding_precision=3)
            out.append(_problems(features[invalid], "GEOM_INVALID", ERROR, detail=reasons,
                                 value=[_describe(g) for g in np.where(has, offer, made)],
                                 suggestion=wkt, hint=want))
        checked = geoms.copy()
        checked[invalid] = np.where(has, offer, made)
    checkable = usable & (valid | offered)
    if boundary is not None and rules.within_municipality and checkable.any():
        shapely.prepare(boundary)
        inside = shapely.covered_by(checked, boundary)
        touching = shapely.intersects(checked, boundary)
        outside = checkable & ~touching
        partly = checkable & touching & ~inside
        if outside.any():
            out.append(_problems(features[outside], "OUTSIDE_MUNICIPALITY", ERROR))
        if partly.any():
            out.append(_problems(features[partly], "OUTSIDE_MUNICIPALITY", WARNING,
                                 detail="partly"))
    if rules.min_area is not None:
        area = shapely.area(checked)
        small = usable & (area < rules.min_area)
        if small.any():
            out.append(_problems(features[small], "BELOW_MIN_AREA", ERROR,
                                 value=np.round(area[small], 2), detail=rules.min_area))
    if rules.min_length is not None:
        length = shapely.length(checked)
        short = usable & (length < rules.min_length)
        if short.any():
            out.append(_problems(features[short], "BELOW_MIN_LENGTH", ERROR,
                                 value=np.round(length[short], 2), detail=rules.min_length))
    polygon_overlap = rules.no_overlap and want in ("Polygon", "MultiPolygon")
    if checkable.any() and polygon_overlap:  # duplicates come out of the overlap's STRtrees
        out += _check_overlap(checked, features, checkable, state,
                              tol=(rules.snap_tolerance or 0.0) ** 2)
    elif checkable.any():
        out += _check_duplicates(checked, features, checkable, state)
    return geoms, repaired, out


def _check_duplicates(geoms: np.ndarray, features: np.ndarray, checkable: np.ndarray,
                      state: FileState) -> list[pd.DataFrame]:
    """GEOM_DUPLICATE of points and lines (equal once normalised), in the file: each names
    the first feature with that geometry."""
    idx = np.flatnonzero(checkable)
    wkb = shapely.to_wkb(shapely.normalize(geoms[idx]))
    hashes = hash_array(wkb.astype(object))
    codes, _uniques = pd.factorize(hashes)
    _, first = np.unique(codes, return_index=True)  # position of each hash's first feature
    other = features[idx[first[codes]]]
    dup = first[codes] != np.arange(len(idx))
    earlier = pd.Index(state.geom_hashes).get_indexer(hashes)
    seen = earlier >= 0
    other[seen] = state.geom_features[earlier[seen]]
    dup |= seen
    out: list[pd.DataFrame] = []
    if dup.any():
        out.append(_problems(features[idx[dup]], "GEOM_DUPLICATE", ERROR, other=other[dup]))
    state.geom_hashes = state.geom_hashes.append(pd.Index(hashes[~dup]))
    state.geom_features = np.concatenate([state.geom_features, features[idx[~dup]]])
    checkable[idx[dup]] = False
    return out


#: The part type a layer's geometry type is made of.
_PART_OF = {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1, "Polygon": 3,
            "MultiPolygon": 3}


def repair_of_type(made: np.ndarray, want: str) -> np.ndarray:
    """The repairs (``make_valid`` results) that a layer of type ``want`` can hold, ``None``
    for the others: the parts of the layer's kind (polygons of a polygon layer; a
    collapsed line or point is dropped), as one geometry of the layer's type (a single
    layer takes one part only).

    Examples
    --------
    >>> spike = shapely.make_valid(shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 0),
    ...                                              (-1, -1), (0, 0)]))
    >>> spike.geom_type, repair_of_type(np.array([spike]), "Polygon")[0].geom_type
    ('GeometryCollection', 'Polygon')
    >>> repair_of_type(np.array([shapely.LineString([(0, 0), (1, 0)])]), "Polygon")
    array([None], dtype=object)
    """
    out = np.full(len(made), None, dtype=object)
    if want not in _PART_OF or not len(made):
        return out
    parts, owner = np.asarray(made, dtype=object), np.arange(len(made))
    while True:  # flatten collections and multi geometries (collections may nest)
        nested = shapely.get_type_id(parts) >= 4
        if not nested.any():
            break
        inner, where = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][where]])
    keep = (shapely.get_type_id(parts) == _PART_OF[want]) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    if not len(parts):
        return out
    order = np.argsort(owner, kind="stable")  # each geometry's parts together, in order
    parts, owner = parts[order], owner[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[starts, len(owner)])
    numbers = owner[starts]
    if want in MULTI_OF:  # a single layer: one part, or no repair of its type
        one = counts == 1
        out[numbers[one]] = parts[starts[one]]
    else:
        make = {0: shapely.multipoints, 1: shapely.multilinestrings, 3: shapely.multipolygons}
        out[numbers] = make[_PART_OF[want]](parts, indices=np.repeat(np.arange(len(numbers)),
                                                                      counts))
    return out


def _describe(geom: Any) -> str:
    """``'MultiPolygon (2 parts)'``, ``'LineString'``: what a repair gives."""
    if geom is None:
        return ""
    count = shapely.get_num_geometries(geom)
    return f"{geom.geom_type} ({count})" if geom.geom_type.startswith(("Multi", "Geometry")) \
        else str(geom.geom_type)


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
    first = np.full(len(sub), np.iinfo(np.int64).max, dtype=np.int64)  # a duplicate's original
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
            same = _same(sub[mine], earlier.geoms[theirs], box[mine],
                         shapely.bounds(earlier.geoms[theirs]))
            dup[mine[same]] = True
            np.minimum.at(first, mine[same], earlier.features[theirs[same]])
            earlier_pairs.append((earlier, mine, theirs))
    tree = shapely.STRtree(sub)
    left, right = tree.query(sub)  # bounding boxes meet (each polygon meets itself)
    pair = left < right
    left, right = left[pair], right[pair]
    meets = shapely.intersects(sub[left], sub[right])
    left, right = left[meets], right[meets]
    if len(left):
        same = _same(sub[left], sub[right], box[left], box[right])
        dup[right[same]] = True
        np.minimum.at(first, right[same], features[idx[left[same]]])
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
        out.append(_problems(features[idx[dup]], "GEOM_DUPLICATE", ERROR, other=first[dup]))
        checkable[idx[dup]] = False
    if (~dup).any():  # the tree is kept as it is; its duplicates are marked dead
        state.polygons.append(ChunkPolygons(geoms=sub, features=features[idx],
                                            bounds=tuple(shapely.total_bounds(sub[~dup])),
                                            tree=tree, alive=~dup))
    later = np.concatenate([f[0] for f in found]) if found else np.empty(0, dtype=np.int64)
    if len(later):
        other = np.concatenate([f[1] for f in found])
        out.append(_problems(later, "GEOM_OVERLAP", ERROR, other=other).drop_duplicates(
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


@dataclass
class ChunkKeys:
    """A chunk's feature numbers and key columns (as sent, and coerced): references to the
    chunk's own columns, made into text only for the features a report names."""

    index: pd.Index
    sent: dict[str, pd.Series]
    coerced: dict[str, pd.Series]

    def texts(self, positions: np.ndarray) -> np.ndarray:
        """The keys at ``positions`` as people read them: the stored (coerced) value, else
        the value as sent (a key not of its type), parts joined by ``", "``; ``""`` when
        missing."""
        parts = []
        for name, value in self.coerced.items():
            stored = value.iloc[positions].astype("string")
            sent = self.sent.get(name)
            if sent is not None:
                stored = stored.fillna(sent.iloc[positions].astype("string").str.strip()
                                       .set_axis(stored.index))
            parts.append(stored.fillna("").to_numpy(dtype=object))
        text = parts[0]
        for part in parts[1:]:
            text = text + ", " + part
        return np.asarray(text, dtype=object)


def _name_keys(table: pd.DataFrame, frame: pd.DataFrame, coerced: pd.DataFrame, layer: Any,
               state: FileState) -> None:
    """Fill ``key`` (each problem's feature) and ``other_key`` (the other feature of a pair,
    in this chunk or an earlier one) of ``table``; remember this chunk's key columns."""
    names = list(layer.key)
    here = ChunkKeys(index=frame.index,
                     sent={n: frame[n] for n in names if n in frame.columns},
                     coerced={n: coerced[n] for n in names})
    if len(table):
        where = here.index.get_indexer(table["feature"].to_numpy(dtype=np.int64))
        table["key"] = here.texts(where)  # every problem is of a feature of this chunk
        other = table["other"]
        if other.notna().any():
            wanted = other.to_numpy(dtype=np.int64, na_value=-1)
            named = np.full(len(table), None, dtype=object)
            for chunk in [*state.keys, here]:
                at = chunk.index.get_indexer(wanted)
                if (at >= 0).any():
                    named[at >= 0] = chunk.texts(at[at >= 0])
            table["other_key"] = named
    state.keys.append(here)


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
    _name_keys(table, frame, coerced, layer, state)
    return ValidationResult(frame=result, problems=table,
                            repaired=gpd.GeoSeries(repaired, index=frame.index, crs=frame.crs))
