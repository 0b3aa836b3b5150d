"""The mapping step: which column of a department's file is which field of the standard.

Pure functions over the first rows of a file (:func:`read_sample` reads only those, so a
file of a million features answers as fast as one of a hundred):

* :func:`suggest` proposes, for each column, a field of the layer with a confidence, from
  the column's name (case and Turkish letters folded, common abbreviations: ``mah`` ->
  ``mahalle_adi``, ``kat`` -> ``kat_sayisi``, ``name``/``adi``/``isim`` -> the layer's name
  field) and from its values (10-digit numbers -> the UAVT code, neighbourhood names once
  "Mahallesi" is stripped -> the neighbourhood field, small integers -> floor counts,
  four-digit years -> the construction year); for code-list fields it gives the share of
  the sample's values that match the list (after normalisation and the known aliases) and
  proposes aliases for the values that do not;
* :func:`normalise_values` applies the value normalisation and the aliases to a chunk
  before validation, and returns each change as a warning (``VALUE_NORMALISED``,
  ``VALUE_ALIAS``), so nothing is replaced silently.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from etl.textnorm import (
    expand_street_words,
    field_key,
    fold,
    strip_place_suffix,
    turkish_lower,
)

#: Rows read to suggest a mapping.
SAMPLE_ROWS = 500
#: A suggestion at least this confident is applied by ``kentcbs ingest --auto-map``.
CONFIDENT = 0.8
#: Distinct values shown per column.
SAMPLE_VALUES = 5

#: Folded column names -> candidate fields (the first the layer has wins). ``@name`` is
#: the layer's name field, ``@mahalle`` its neighbourhood field, ``@uavt`` its UAVT code.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "mah": ("@mahalle",), "mahalle": ("@mahalle",), "mh": ("@mahalle",),
    "mahalle_adi": ("@mahalle",), "mahallesi": ("@mahalle",), "mah_adi": ("@mahalle",),
    "neighbourhood": ("@mahalle",), "neighborhood": ("@mahalle",),
    "kat": ("kat_sayisi",), "kat_adedi": ("kat_sayisi",), "katsayisi": ("kat_sayisi",),
    "kat_sayi": ("kat_sayisi",), "floors": ("kat_sayisi",), "floor_count": ("kat_sayisi",),
    "bodrum": ("bodrum_kat_sayisi",), "bodrum_kat": ("bodrum_kat_sayisi",),
    "name": ("@name",), "ad": ("@name",), "adi": ("@name",), "isim": ("@name",),
    "isim_adi": ("@name",), "adi_soyadi": ("@name",),
    "uavt": ("@uavt",), "uavt_kodu": ("@uavt",), "uavt_no": ("@uavt",), "uavt_kod": ("@uavt",),
    "uavt_code": ("@uavt",), "uavt_number": ("@uavt",), "uavt_id": ("@uavt",),
    "bina_kodu": ("@uavt", "bina_kodu"), "adres_kodu": ("@uavt",),
    "yil": ("yapim_yili",), "yapim_yil": ("yapim_yili",), "insa_yili": ("yapim_yili",),
    "yapi_yili": ("yapim_yili",), "year": ("yapim_yili",), "year_built": ("yapim_yili",),
    "kullanim_amaci": ("kullanim",), "kullanim_sekli": ("kullanim",), "use": ("kullanim",),
    "ada": ("ada_no",), "parsel": ("parsel_no",), "ruhsat": ("ruhsat_no",),
    "sokak": ("sokak_adi", "yol_adi"), "cadde": ("sokak_adi", "yol_adi"),
    "sokak_cadde": ("sokak_adi", "yol_adi"), "kapi": ("kapi_no",), "kapi_numarasi": ("kapi_no",),
    "tip": ("tur", "yol_tipi"), "turu": ("tur",), "tipi": ("yol_tipi", "tur"),
    "kod": ("kod",), "code": ("kod",), "alan": ("alan_m2",), "genislik": ("genislik_m",),
    "durumu": ("durum",), "kategorisi": ("kategori",),
}

#: Values departments write for code-list entries, offered as aliases on the mapping page
#: (never applied before someone confirms them; see ``etl.models.ValueAlias``).
KNOWN_ALIASES: dict[str, dict[str, str]] = {
    "bina_kullanim": {"karma": "Konut + Ticaret", "konut ticaret": "Konut + Ticaret",
                      "konut+ticaret": "Konut + Ticaret", "ticari": "Ticaret",
                      "kamu": "Kamu Hizmet", "resmi": "Kamu Hizmet", "mesken": "Konut",
                      "okul": "Eğitim", "cami": "Dini Tesis", "hastane": "Sağlık",
                      "fabrika": "Sanayi", "ambar": "Depo", "sanayi tesisi": "Sanayi"},
    "yol_tipi": {"cad": "Cadde", "cd": "Cadde", "sok": "Sokak", "sk": "Sokak",
                 "blv": "Bulvar"},
}

_TEN_DIGITS = re.compile(r"^[0-9]{10}$")


# -- reading the sample ------------------------------------------------------------------
def read_sample(path: Path, *, rows: int = SAMPLE_ROWS, workdir: Path | None = None
                ) -> tuple[list[str], pd.DataFrame]:
    """The file's attribute columns and its first ``rows`` rows (no geometry).

    The file is checked and opened as :func:`etl.read.open_upload` opens it (archives
    unpacked under ``workdir``); only the first rows are parsed (a CSV: its first 1 MiB).
    """
    import tempfile

    from etl.read import _read_chunk, open_upload
    from etl.safety import Limits, run_limited

    limits = Limits.from_settings()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        info = open_upload(Path(path), workdir=Path(tmp), limits=limits)
        if info.format == "csv":
            frame = _csv_sample(info.dataset, info.encoding or "utf-8", rows)
            frame = frame.drop(columns=[c for c in info.csv_geometry.values()
                                        if c in frame.columns])
            return list(frame.columns), frame
        parsed = run_limited(_read_chunk, str(info.dataset), info.layer, info.encoding, 0,
                             max(0, min(rows, info.feature_count)), limits=limits,
                             what=info.original.name)
        frame = pd.DataFrame(parsed.frame)
        return [str(c) for c in info.fields], frame


def _csv_sample(path: Path, encoding: str, rows: int) -> pd.DataFrame:
    with open(path, "rb") as handle:
        raw = handle.read(1 << 20)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode(encoding, errors="replace")
    if len(raw) == 1 << 20:
        text = text[:text.rfind("\n") + 1] or text  # whole lines only
    dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    return pd.read_csv(io.StringIO(text), sep=dialect.delimiter, dtype=str, nrows=rows,
                       keep_default_na=False, na_values=[""])


# -- the layer's special fields ------------------------------------------------------------
def special_fields(layer: Any) -> dict[str, str]:
    """``{"@name": ..., "@mahalle": ..., "@uavt": ...}`` for the layer (those it has).

    Examples
    --------
    >>> from layers.registry import registry
    >>> special_fields(registry.get("bina"))
    {'@name': 'bina_adi', '@mahalle': 'mahalle_adi', '@uavt': 'uavt_bina_kodu'}
    """
    names = [f.name for f in layer.fields]
    found: dict[str, str] = {}
    name = "ad" if "ad" in names else next(
        (n for n in names if n.endswith("_adi") and n not in ("mahalle_adi", "sokak_adi",
                                                              "birim_adi")), None)
    if name:
        found["@name"] = name
    mahalle = next((f.name for f in layer.fields if f.codelist == "mahalle"), None)
    if mahalle and mahalle != found.get("@name"):
        found["@mahalle"] = mahalle
    elif mahalle:  # the layer of neighbourhoods: its name is the neighbourhood's name
        found["@mahalle"] = mahalle
    uavt = next((f.name for f in layer.fields if f.pattern and "{10}" in f.pattern), None) \
        or next((n for n in names if "uavt" in n), None)
    if uavt:
        found["@uavt"] = uavt
    return found


def _resolve(candidates: tuple[str, ...], layer: Any, special: dict[str, str]) -> str | None:
    names = set(layer.field_names)
    for candidate in candidates:
        target = special.get(candidate, candidate)
        if target in names:
            return target
    return None


# -- values ---------------------------------------------------------------------------------
def _texts(series: pd.Series) -> list[str]:
    values = series.dropna()
    return [str(v).strip() for v in values.tolist() if str(v).strip() != ""]


def codelist_codes(name: str) -> list[str]:
    from layers.codelists import codelist

    return [entry.code for entry in codelist(name)]


def alias_table(codelist_name: str, *, department: str | None = None) -> dict[str, str]:
    """The stored aliases of a code list: ``{fold(alias): code}`` (the GIS unit's, and the
    department's own when given; the department's win)."""
    from django.db import DatabaseError
    from django.db.models import Q

    from etl.models import ValueAlias

    rows = ValueAlias.objects.filter(codelist=codelist_name)
    rows = rows.filter(Q(department="") | Q(department=department or ""))
    try:
        found = sorted(rows.values_list("department", "alias_key", "code"))
    except DatabaseError:
        return {}
    return {key: code for _dept, key, code in found}  # "" sorts first: a department's wins


@dataclass(frozen=True)
class ValueMatch:
    """How one value of a code-list field meets the list."""

    code: str | None  # the entry it becomes, None when unmatched
    how: str  # "exact", "normalised", "alias", "" (unmatched)


def value_key(value: str) -> str:
    """How values are compared with code-list entries: normalised (:func:`normalise_text`),
    lower case by Turkish rules, spaces collapsed. Turkish letters stay: ``Cocuk`` is not
    ``Çocuk`` (that is a typo the report points out, with a suggestion).

    Examples
    --------
    >>> value_key("  IŞIK   Mah."), value_key("İstiklal") == value_key("istiklal")
    ('ışık', True)
    """
    return " ".join(turkish_lower(normalise_text(value)).split())


class CodeMatcher:
    """Match values to a code list: exactly, then after the normalisation (``X Mahallesi``
    -> ``X``, ``Cad.`` -> ``Cadde``) ignoring case by Turkish rules, then by a stored alias.

    Examples
    --------
    >>> m = CodeMatcher(["Konut", "Ticaret", "Kamu Hizmet"], {"ticari": "Ticaret"})
    >>> [m.match(v).how for v in ("Konut", "KONUT", "Ticari", "Karma")]
    ['exact', 'normalised', 'alias', '']
    >>> m.match("TİCARET").code, m.propose("Kamu", "bina_kullanim")
    ('Ticaret', 'Kamu Hizmet')
    """

    def __init__(self, codes: list[str], aliases: dict[str, str] | None = None) -> None:
        self.codes = set(codes)
        self.by_key = {value_key(c): c for c in codes}
        self.by_fold = {fold(normalise_text(c)): c for c in codes}
        self.aliases = {k: v for k, v in (aliases or {}).items() if v in self.codes}

    def match(self, value: str) -> ValueMatch:
        if value in self.codes:
            return ValueMatch(value, "exact")
        key = value_key(value)
        if key in self.by_key:
            return ValueMatch(self.by_key[key], "normalised")
        alias = (self.aliases.get(fold(value.strip()))
                 or self.aliases.get(fold(normalise_text(value))))
        if alias:
            return ValueMatch(alias, "alias")
        return ValueMatch(None, "")

    def propose(self, value: str, codelist_name: str) -> str:
        """An entry ``value`` probably stands for (``""``: none): a known alias, an entry it
        begins or is begun by, or a close spelling."""
        key = fold(normalise_text(value))
        known = KNOWN_ALIASES.get(codelist_name, {}).get(key)
        if known in self.codes:
            return str(known)
        compact = re.sub(r"[^a-z0-9]", "", key)
        if len(compact) >= 4:
            for ckey, code in self.by_fold.items():
                other = re.sub(r"[^a-z0-9]", "", ckey)
                if other.startswith(compact) or compact.startswith(other) \
                        or (len(compact) >= 5 and other[:5] == compact[:5]):
                    return code
        close = difflib.get_close_matches(key, list(self.by_fold), n=1, cutoff=0.8)
        return self.by_fold[close[0]] if close else ""


def normalise_text(value: str) -> str:
    """The normalisation of a text value: place suffix stripped, street words spelt out.

    Examples
    --------
    >>> normalise_text("Emek Mah."), normalise_text("Atatürk Cad.")
    ('Emek', 'Atatürk Cadde')
    """
    return expand_street_words(strip_place_suffix(str(value)))


# -- suggestions ----------------------------------------------------------------------------
@dataclass
class ColumnSuggestion:
    """What the mapping step proposes for one column of the file."""

    column: str
    field: str | None
    confidence: float
    reason: str  # "saved", "name", "synonym", "similar name", "content: ...", ""
    samples: list[str] = dataclass_field(default_factory=list)
    #: share of the sample's values matching the field's code list (None: no code list)
    codelist_share: float | None = None
    #: sample values that match no entry, each with an entry proposed as its alias ("")
    unmatched: dict[str, str] = dataclass_field(default_factory=dict)


@dataclass
class MappingSuggestion:
    layer: str
    columns: list[ColumnSuggestion]

    def mapping(self, *, min_confidence: float = 0.0) -> dict[str, str]:
        """``{column: field}`` of the suggestions at least ``min_confidence`` confident."""
        return {c.column: c.field for c in self.columns
                if c.field and c.confidence >= min_confidence}

    def left_out(self) -> list[str]:
        """Columns the department's saved mapping leaves out (not loaded)."""
        return [c.column for c in self.columns if c.reason == "saved" and not c.field]

    @property
    def exact(self) -> bool:
        """Every column is a field by its own name or by the department's saved mapping:
        nothing to ask (values without an entry are then reported by the validation)."""
        return all(c.reason.split(" + ")[0] in ("name", "saved") for c in self.columns)

    def as_yaml(self) -> str:
        """The suggestion as a mapping file for ``kentcbs ingest --mapping``."""
        lines = [f"# kentcbs ingest {self.layer} FILE --mapping THIS_FILE",
                 "# column: field  (confidence, why; a column left out is not loaded)"]
        body = yaml.safe_dump({"fields": self.mapping()}, allow_unicode=True,
                              sort_keys=False).splitlines()
        notes = {c.column: c for c in self.columns}
        for line in body:
            column = line.strip().split(":")[0].strip("'\"")
            found = notes.get(column)
            if found is not None and line.startswith("  "):
                line += f"  # {found.confidence:.2f} {found.reason}"
            lines.append(line)
        skipped = [c.column for c in self.columns if not c.field]
        if skipped:
            lines.append("# not matched: " + ", ".join(skipped))
        return "\n".join(lines) + "\n"


def _name_candidate(column: str, layer: Any, special: dict[str, str]
                    ) -> tuple[str | None, float, str]:
    key = field_key(column)
    by_key = {field_key(n): n for n in layer.field_names}
    if key in by_key:
        return by_key[key], 1.0, "name"
    if key in SYNONYMS:
        target = _resolve(SYNONYMS[key], layer, special)
        if target:
            return target, 0.9, "synonym"
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.82)
    if close:
        ratio = difflib.SequenceMatcher(None, key, close[0]).ratio()
        return by_key[close[0]], round(0.85 * ratio, 2), "similar name"
    return None, 0.0, ""


def _content_candidate(values: list[str], layer: Any, special: dict[str, str],
                       matchers: dict[str, CodeMatcher]) -> tuple[str | None, float, str]:
    if not values:
        return None, 0.0, ""
    names = set(layer.field_names)
    ten = np.mean([bool(_TEN_DIGITS.match(v.split(".")[0])) for v in values])
    if ten >= 0.9 and "@uavt" in special:
        return special["@uavt"], 0.85, "content: 10-digit codes"
    best: tuple[str | None, float, str] = (None, 0.0, "")
    for fname, matcher in matchers.items():
        share = float(np.mean([matcher.match(v).code is not None for v in values]))
        if share >= 0.5 and share > best[1]:
            kind = "neighbourhood names" if fname == special.get("@mahalle") else "code list"
            best = (fname, round(0.5 + 0.4 * share, 2), f"content: {kind} ({share:.0%})")
    if best[0]:
        return best
    numbers = pd.to_numeric(pd.Series(values).str.replace(",", ".", regex=False),
                            errors="coerce")
    if numbers.notna().mean() >= 0.9:
        whole = numbers.dropna()
        if (whole % 1 == 0).all():
            if whole.between(1800, 2100).all() and "yapim_yili" in names:
                return "yapim_yili", 0.7, "content: four-digit years"
            if whole.between(0, 60).all() and whole.max() >= 1 and "kat_sayisi" in names:
                return "kat_sayisi", 0.6, "content: small integers"
    return None, 0.0, ""


def suggest(columns: list[str], sample: pd.DataFrame, layer: Any, *,
            saved: dict[str, str] | None = None,
            aliases: dict[str, dict[str, str]] | None = None,
            codes: dict[str, list[str]] | None = None) -> MappingSuggestion:
    """Suggest a field for each column of the file.

    Parameters
    ----------
    columns : list of str
        The file's attribute columns, in order.
    sample : DataFrame
        The first rows of the file (:func:`read_sample`).
    layer : LayerDefinition
        The target layer.
    saved : dict, optional
        The mapping the department confirmed last time (``{column: field or ""}``): a column
        found in it takes its field (or stays out) with full confidence.
    aliases : dict, optional
        ``{codelist: {fold(alias): code}}`` (:func:`alias_table`).
    codes : dict, optional
        ``{codelist: [codes]}``; read from the registry when not given.

    Examples
    --------
    >>> from layers.registry import registry
    >>> frame = pd.DataFrame({"uavt_kodu": ["1234567890"], "kat": ["3"], "x": ["?"]})
    >>> found = suggest(list(frame.columns), frame, registry.get("bina"),
    ...                 codes={"mahalle": ["Emek"], "bina_kullanim": ["Konut"]})
    >>> found.mapping()
    {'uavt_kodu': 'uavt_bina_kodu', 'kat': 'kat_sayisi'}
    """
    saved = saved or {}
    aliases = aliases or {}
    special = special_fields(layer)
    matchers: dict[str, CodeMatcher] = {}
    lists: dict[str, str] = {}
    for fdef in layer.fields:
        if fdef.codelist:
            allowed = (codes or {}).get(fdef.codelist)
            if allowed is None:
                allowed = codelist_codes(fdef.codelist)
            matchers[fdef.name] = CodeMatcher(allowed, aliases.get(fdef.codelist))
            lists[fdef.name] = fdef.codelist
        elif fdef.enum is not None:
            matchers[fdef.name] = CodeMatcher([str(v) for v in fdef.enum])
    proposals: list[tuple[float, int, str, str]] = []  # (confidence, index, field, reason)
    values: dict[str, list[str]] = {}
    for index, column in enumerate(columns):
        texts = _texts(sample[column]) if column in sample.columns else []
        values[column] = texts
        if column in saved:
            target = saved[column]
            if not target or target in layer.field_names:
                proposals.append((1.01, index, target, "saved"))
                continue
        name_field, name_conf, name_reason = _name_candidate(column, layer, special)
        content_field, content_conf, content_reason = _content_candidate(
            texts, layer, special, matchers)
        if name_field and name_field == content_field:
            proposals.append((max(name_conf, min(0.98, name_conf + 0.1)), index, name_field,
                              f"{name_reason} + {content_reason}"))
            continue
        if name_field:
            proposals.append((name_conf, index, name_field, name_reason))
        if content_field:
            proposals.append((content_conf * (0.8 if name_field else 1.0), index,
                              content_field, content_reason))
    # each field to one column at most: the most confident claims first
    chosen: dict[int, tuple[str, float, str]] = {}
    taken: set[str] = set()
    for conf, index, target, reason in sorted(proposals, key=lambda p: (-p[0], p[1])):
        if index in chosen or (target and target in taken):
            continue
        chosen[index] = (target, min(conf, 1.0), reason)
        if target:
            taken.add(target)
    out = []
    for index, column in enumerate(columns):
        target, conf, reason = chosen.get(index, ("", 0.0, ""))
        texts = values[column]
        distinct = list(dict.fromkeys(texts))
        item = ColumnSuggestion(column=column, field=target or None, confidence=round(conf, 2),
                                reason=reason, samples=distinct[:SAMPLE_VALUES])
        if target and target in matchers and texts:
            matcher = matchers[target]
            found = {v: matcher.match(v) for v in distinct}
            item.codelist_share = round(float(np.mean([found[v].code is not None
                                                       for v in texts])), 3)
            item.unmatched = {v: matcher.propose(v, lists.get(target, ""))
                              for v, m in found.items() if m.code is None}
        out.append(item)
    return MappingSuggestion(layer=layer.code, columns=out)


def saved_mapping(*, department: str, layer_code: str) -> dict[str, str]:
    """The mapping ``department`` confirmed last for ``layer_code`` (``{}``: none)."""
    from django.db import DatabaseError

    from etl.models import ColumnMapping

    try:
        row = ColumnMapping.objects.filter(department=department, layer_code=layer_code).first()
    except DatabaseError:
        return {}
    return dict(row.mapping) if row is not None else {}


def save_mapping(*, department: str, layer_code: str, mapping: dict[str, str],
                 user: Any = None) -> None:
    """Keep ``mapping`` as the one ``department`` uses for ``layer_code`` (merged into the
    columns kept from earlier files)."""
    from etl.models import ColumnMapping

    merged = saved_mapping(department=department, layer_code=layer_code) | dict(mapping)
    ColumnMapping.objects.update_or_create(
        department=department, layer_code=layer_code,
        defaults={"mapping": merged, "user": user if getattr(user, "pk", None) else None})


def suggest_for_file(path: Path, layer: Any, *, department: str | None = None,
                     workdir: Path | None = None) -> MappingSuggestion:
    """:func:`suggest` for a file, with the department's saved mapping and the aliases."""
    columns, sample = read_sample(path, workdir=workdir)
    saved = saved_mapping(department=department, layer_code=layer.code) if department else {}
    aliases = {f.codelist: alias_table(f.codelist, department=department)
               for f in layer.fields if f.codelist}
    return suggest(columns, sample, layer, saved=saved, aliases=aliases)


# -- value normalisation before validation -------------------------------------------------
#: Text fields whose values are street names (``Cad.`` -> ``Cadde``).
STREET_FIELDS = re.compile(r"(sokak|cadde|yol_adi|adres)")


def normalise_values(frame: pd.DataFrame, layer: Any, *, department: str | None = None,
                     aliases: dict[str, dict[str, str]] | None = None,
                     codes: dict[str, list[str]] | None = None, streets: bool = True
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise the values of code-list and street fields; return the frame and one
    warning per changed value (``VALUE_NORMALISED``: "Emek Mahallesi" -> "Emek", "KONUT" ->
    "Konut", "Atatürk Cad." -> "Atatürk Cadde"; ``VALUE_ALIAS``: a stored alias applied).

    Only distinct values are examined (a file of a million rows has a few hundred).
    ``streets=False`` leaves street names as written (code-list fields only).
    """
    from etl.validate import _problems, empty_problems

    if aliases is None:
        aliases = {f.codelist: alias_table(f.codelist, department=department)
                   for f in layer.fields if f.codelist}
    notes: list[pd.DataFrame] = []
    out = frame
    for fdef in layer.fields:
        name = fdef.name
        if name not in frame.columns or fdef.type not in ("string", "text"):
            continue
        series = frame[name]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
            continue
        if fdef.codelist or fdef.enum is not None:
            allowed = ((codes or {}).get(fdef.codelist or "") if fdef.codelist else None)
            if allowed is None:
                allowed = (codelist_codes(fdef.codelist) if fdef.codelist
                           else [str(v) for v in fdef.enum or []])
            matcher = CodeMatcher(allowed, aliases.get(fdef.codelist or ""))
            changes: dict[Any, tuple[str, str]] = {}
            for value in pd.unique(series.dropna()):
                if not isinstance(value, str):
                    continue
                found = matcher.match(value)
                if found.code is not None and found.code != value:
                    changes[value] = (found.code, found.how)
        elif streets and STREET_FIELDS.search(name):
            changes = {}
            for value in pd.unique(series.dropna()):
                if isinstance(value, str):
                    spelt = expand_street_words(value)
                    if spelt != value.strip():
                        changes[value] = (spelt, "normalised")
        else:
            continue
        if not changes:
            continue
        if out is frame:
            out = frame.copy()
        replace = {value: new for value, (new, _how) in changes.items()}
        hit = series.isin(list(replace)).to_numpy(dtype=bool)
        out.loc[hit, name] = series[hit].map(replace)
        for how, code in (("normalised", "VALUE_NORMALISED"), ("alias", "VALUE_ALIAS")):
            olds = [v for v, (_n, h) in changes.items() if h == how]
            if not olds:
                continue
            rows = series.isin(olds).to_numpy(dtype=bool)
            old = series[rows].to_numpy(dtype=object)
            notes.append(_problems(frame.index.to_numpy()[rows], code, "warning",
                                   field_name=name, value=old,
                                   suggestion=[replace[v] for v in old],
                                   detail=fdef.codelist or ""))
    problems = pd.concat(notes, ignore_index=True) if notes else empty_problems()
    return out, problems
