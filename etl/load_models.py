"""Inventories through the ETL's door: layers backed by core models.

Service buildings (``bina_hizmet``), floors and rooms (``oda``), IT assets (``bt_varlik``),
network links (``ag_baglanti``) and neighbourhood boundaries (``mahalle``) are kept in
``gis_core`` models, not in registry tables. An inventory sheet (XLSX, ODS, CSV) or a
GeoPackage for them goes through the same reading, column mapping (``--mapping`` and name
folding, plus the headers of Taşınır Kayıt ve Yönetim Sistemi exports), validation against
the layer's standard and reports as any upload; its rows are then written one by one through
the core services (:mod:`gis_core.services`), each in a savepoint of the batch's one
transaction, so that history records every change and a core rule (asset within its
building, room in the asset's building, scrapped is final, ...) becomes a per-row reason,
never a failure of the batch. Rows are matched to stored objects by their key (inventory
number, building code, building and room code): a file sent again changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from etl import report as reports
from etl.errors import UploadRefused
from etl.mapping import normalise_values
from etl.models import Batch, Quarantine
from etl.normalise import Diagnostic, load_mapping, match_fields, resolve_crs, to_storage
from etl.read import open_upload, read_chunks, require_geometry, table_crs
from etl.safety import Limits
from etl.textnorm import field_key, fold
from etl.validate import ERROR, FileState, _problems, empty_problems, validate_chunk
from gis_core.errors import KentCBSError

#: Headers of inventory sheets (folded, :func:`etl.textnorm.field_key`) and the field each
#: means, per layer: Taşınır Kayıt ve Yönetim Sistemi exports (Taşınır Kodu, Sicil No, Adı,
#: Marka, Model, Seri No, Oda) and common Turkish and English variants. A ``--mapping``
#: file wins over these; a header that is a field's own name is never re-mapped.
ALIASES: dict[str, dict[str, str]] = {
    "bt_varlik": {
        "sicil_no": "demirbas_no", "sicil_numarasi": "demirbas_no", "demirbas": "demirbas_no",
        "demirbas_numarasi": "demirbas_no", "envanter_no": "demirbas_no",
        "inventory_number": "demirbas_no", "inventory_no": "demirbas_no",
        "tasinir_kod": "tasinir_kodu", "hesap_kodu": "tasinir_kodu",
        "adi": "kategori", "cinsi": "kategori", "tur": "kategori", "turu": "kategori",
        "category": "kategori", "tasinir_adi": "kategori",
        "status": "durum", "brand": "marka", "seri_numarasi": "seri_no", "serial": "seri_no",
        "serial_number": "seri_no", "seri": "seri_no",
        "oda": "oda_kodu", "oda_no": "oda_kodu", "room": "oda_kodu", "bulundugu_oda": "oda_kodu",
        "bina": "bina_kodu", "building": "bina_kodu", "bina_kod": "bina_kodu",
        "birim": "birim_kodu", "department": "birim_kodu", "mudurluk": "birim_kodu",
        "zimmetli": "zimmetli_kisi", "zimmet": "zimmetli_kisi",
        "ip": "ip_adresi", "ip_address": "ip_adresi", "ip_adres": "ip_adresi",
        "mac": "mac_adresi", "mac_address": "mac_adresi", "mac_adres": "mac_adresi",
        "hostname": "bilgisayar_adi", "host": "bilgisayar_adi", "host_name": "bilgisayar_adi",
        "alim_tarihi_": "alim_tarihi", "edinme_tarihi": "alim_tarihi",
        "purchase_date": "alim_tarihi", "garanti_bitis_tarihi": "garanti_bitis",
        "warranty_end": "garanti_bitis",
    },
    "oda": {
        "bina": "bina_kodu", "building": "bina_kodu", "kat": "kat_no", "floor": "kat_no",
        "oda_no": "kod", "oda_numarasi": "kod", "oda_kodu": "kod", "room": "kod",
        "room_number": "kod", "oda_adi": "ad", "room_name": "ad", "name": "ad",
        "birim": "birim_kodu", "department": "birim_kodu", "mudurluk": "birim_kodu",
        "kullanan_birim": "birim_kodu", "department_name": "birim_adi",
    },
    "bina_hizmet": {
        "bina_kodu": "kod", "code": "kod", "bina_adi": "ad", "name": "ad",
        "uavt": "uavt_bina_kodu", "uavt_kodu": "uavt_bina_kodu", "uavt_kod": "uavt_bina_kodu",
        "mahalle": "mahalle_adi", "sokak": "sokak_adi", "cadde_sokak": "sokak_adi",
        "dis_kapi_no": "kapi_no", "kat": "kat_sayisi",
    },
    "abonelik": {
        "provider": "saglayici", "servis_saglayici": "saglayici", "operator": "saglayici",
        "hat": "hat_no", "hat_numarasi": "hat_no", "line_number": "hat_no",
        "telefon_no": "hat_no", "abone_no": "hat_no", "kind": "tur", "hat_turu": "tur",
        "bina": "bina_kodu", "building": "bina_kodu", "devre": "devre_no",
        "sozlesme": "sozlesme_no", "sozlesme_numarasi": "sozlesme_no",
        "baslangic_tarihi": "baslangic", "start_date": "baslangic", "bitis_tarihi": "bitis",
        "end_date": "bitis", "aylik_ucret_tl": "aylik_ucret", "ucret": "aylik_ucret",
        "monthly_fee": "aylik_ucret", "odeme_gunu_": "odeme_gunu", "payment_day": "odeme_gunu",
    },
    "ag_baglanti": {
        "a_bina": "a_bina_kodu", "b_bina": "b_bina_kodu", "a_ucu": "a_bina_kodu",
        "b_ucu": "b_bina_kodu", "medium": "ortam", "status": "durum", "provider": "saglayici",
        "circuit_id": "devre_no", "devre": "devre_no", "kapasite": "kapasite_mbps",
        "capacity_mbps": "kapasite_mbps",
    },
}

#: Words of an asset's name (Taşınır "Adı") that tell its category, first match wins.
CATEGORY_WORDS: list[tuple[str, str]] = [
    ("dizustu", "laptop"), ("notebook", "laptop"), ("laptop", "laptop"),
    ("tasinabilir bilgisayar", "laptop"), ("sunucu", "server"), ("server", "server"),
    ("masaustu", "desktop"), ("bilgisayar", "desktop"), ("desktop", "desktop"),
    ("monitor", "monitor"), ("ekran", "monitor"), ("yazici", "printer"),
    ("printer", "printer"), ("tarayici", "scanner"), ("scanner", "scanner"),
    ("anahtar", "switch"), ("switch", "switch"), ("yonlendirici", "router"),
    ("router", "router"), ("modem", "modem"), ("erisim noktasi", "access_point"),
    ("access point", "access_point"), ("guvenlik duvari", "firewall"),
    ("firewall", "firewall"), ("depolama", "storage"), ("storage", "storage"),
    ("nas", "storage"), ("kesintisiz", "ups"), ("ups", "ups"), ("kamera", "ip_camera"),
    ("camera", "ip_camera"), ("pdks", "pdks_terminal"), ("santral", "pbx"), ("pbx", "pbx"),
    ("ip telefon", "ip_phone"), ("telefon", "ip_phone"), ("kiosk", "kiosk"),
]


@dataclass
class Outcome:
    """What writing one row did: ``inserted``, ``updated`` or ``unchanged``."""

    action: str


@dataclass
class RowProblem(Exception):
    """A row refused by a core rule (a reason code, the field, the value, a detail)."""

    code: str
    field_name: str = ""
    value: Any = None
    detail: str = ""


@dataclass
class Lookups:
    """Stored objects by their codes, read once per batch."""

    buildings: dict[str, Any] = field(default_factory=dict)
    rooms: dict[tuple[int, str], Any] = field(default_factory=dict)
    rooms_by_code: dict[str, list[Any]] = field(default_factory=dict)
    departments: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls) -> Lookups:
        from gis_core.models import Building, Department, Room

        found = cls()
        found.buildings = {fold(b.code): b for b in Building.objects.all()}
        for room in Room.objects.select_related("building"):
            found.rooms[(room.building_id, fold(room.code))] = room
            found.rooms_by_code.setdefault(fold(room.code), []).append(room)
        for dep in Department.objects.all():
            found.departments[fold(dep.code)] = dep
            found.departments.setdefault(fold(dep.name), dep)
        return found


def _text(value: Any) -> str:
    """A field value as stored text (``""`` for a missing one)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _geos(geom: Any, srid: int) -> GEOSGeometry | None:
    if geom is None or getattr(geom, "is_empty", True):
        return None
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=srid)


def _same_geom(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(a.equals_exact(b, 0.001))


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``obj``; whether any differs from what it held."""
    changed = False
    for name, value in values.items():
        if obj._meta.get_field(name).is_relation:  # by id: no query for the related row
            if getattr(obj, f"{name}_id") != getattr(value, "pk", None):
                setattr(obj, name, value)
                changed = True
            continue
        old = getattr(obj, name)
        if isinstance(value, GEOSGeometry) or isinstance(old, GEOSGeometry):
            same = _same_geom(old, value)
        else:
            same = (old if old is not None else "") == (value if value is not None else "")
        if not same:
            setattr(obj, name, value)
            changed = True
    return changed


# -- the importers -------------------------------------------------------------------------
class Importer:
    """Writes one layer's rows into its model (subclasses per layer)."""

    #: Fields whose REQUIRED problem does not apply (KentCBS assigns them).
    assigned: frozenset[str] = frozenset()
    #: Rules of the layer's standard reported as warnings for this inventory.
    lenient: frozenset[str] = frozenset()

    def __init__(self, layer: Any, lookups: Lookups, user: Any) -> None:
        self.layer = layer
        self.srid = int(layer.srid)
        self.lookups = lookups
        self.user = user
        #: The layer's fields the file has (after mapping); ``None``: not known.
        self.columns: frozenset[str] | None = None

    def prepare(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> list[pd.DataFrame]:
        """Fill what a row leaves to KentCBS before validation (a footprint from UAVT,
        defaults, code-list labels as codes); return problems found meanwhile."""
        return []

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        raise NotImplementedError

    def department(self, row: dict[str, Any]) -> Any:
        """The row's department by its code or its name (Turkish case folding), ``None``
        when the row names none.

        Raises
        ------
        RowProblem
            ``DEPARTMENT_UNKNOWN`` for a code or name of no department.
        """
        text = _text(row.get("birim_kodu")) or _text(row.get("birim_adi"))
        if not text:
            return None
        found = self.lookups.departments.get(fold(text))
        if found is None:
            field_name = "birim_kodu" if _text(row.get("birim_kodu")) else "birim_adi"
            raise RowProblem("DEPARTMENT_UNKNOWN", field_name, text)
        return found

    def building(self, code: str, field_name: str = "bina_kodu") -> Any:
        found = self.lookups.buildings.get(fold(code))
        if found is None:
            raise RowProblem("BUILDING_UNKNOWN", field_name, code)
        return found


def normalise_codes(frame: pd.DataFrame, layer: Any, report: reports.BatchReport, *,
                    words: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """Code-list values written as their Turkish or English label (``Kullanımda``,
    ``Masaüstü bilgisayar``) or, for ``words``, a name holding a telling word (``HP Lazer
    Yazıcı``) become their codes; each field changed is reported (``VALUE_NORMALISED``)."""
    from layers.codelists import codelist

    for fdef in layer.fields:
        if not fdef.codelist or fdef.name not in frame.columns or fdef.codelist == "mahalle":
            continue
        entries = codelist(fdef.codelist)
        table: dict[str, str] = {}
        for e in entries:
            for text in (e.code, e.label_tr, e.label_en):
                table.setdefault(fold(str(text)).strip(), e.code)
        codes = {e.code for e in entries}
        column = frame[fdef.name]
        out, changed = [], 0
        for value in column.to_numpy(dtype=object):
            text = _text(value)
            new: Any = value
            if text and text not in codes:
                key = fold(text).strip()
                new = table.get(key)
                if new is None:
                    for word, code in (words or {}).get(fdef.name, []):
                        if f" {word} " in f" {key} ":
                            new = code
                            break
                new = value if new is None else new
            changed += new is not value
            out.append(new)
        if changed:
            frame[fdef.name] = pd.Series(out, index=frame.index, dtype=object)
            report.diagnostics.append(Diagnostic(
                "VALUE_NORMALISED", "warning", "{n} value(s) of {field} were written as names "
                "and read as the code list's codes (e.g. '{example}').",
                {"n": changed, "field": fdef.name,
                 "example": next(_text(v) for v, o in zip(column, out, strict=True)
                                 if o is not v)}).as_dict())


class BuildingImporter(Importer):
    """``bina_hizmet``: service buildings, by building code; a footprint, or the footprint of
    the ``bina`` layer's building with the same UAVT code."""

    def prepare(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> list[pd.DataFrame]:
        found = self._by_uavt(frame, report)
        self._by_address(frame, report)
        return found

    def _by_address(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> None:
        """Rows with neither footprint nor UAVT code: the ``bina`` footprint that holds the
        ``numarataj`` address point with the same neighbourhood, street and door number."""
        parts = ["mahalle_adi", "sokak_adi", "kapi_no"]
        if not set(parts) <= set(frame.columns):
            return
        geoms = frame.geometry
        wanting = (geoms.isna() | geoms.is_empty) & frame[parts].notna().all(axis=1)
        if "uavt_bina_kodu" in frame.columns:
            wanting &= frame["uavt_bina_kodu"].isna()
        if not wanting.any():
            return
        rows = frame.loc[wanting, parts].map(_text)
        found = address_footprints(rows["kapi_no"].unique().tolist(), self.srid)
        keys = [address_key(*r) for r in rows.itertuples(index=False, name=None)]
        hits = {index: found[key] for index, key in zip(rows.index, keys, strict=True)
                if key in found}
        if not hits:
            return
        for index, (geom, uavt) in hits.items():
            frame.loc[index, frame.geometry.name] = geom
            if uavt and "uavt_bina_kodu" in frame.columns:
                frame.loc[index, "uavt_bina_kodu"] = uavt
        report.diagnostics.append(Diagnostic(
            "FOOTPRINT_FROM_ADDRESS", "warning", "{n} building(s) without a footprint took the "
            "footprint of the bina layer's building at the same address (numarataj).",
            {"n": len(hits)}).as_dict())

    def _by_uavt(self, frame: gpd.GeoDataFrame, report: reports.BatchReport
                 ) -> list[pd.DataFrame]:
        if "uavt_bina_kodu" not in frame.columns:
            return []
        geoms = frame.geometry
        wanting = (geoms.isna() | geoms.is_empty) & frame["uavt_bina_kodu"].notna()
        if not wanting.any():
            return []
        codes = frame.loc[wanting, "uavt_bina_kodu"].map(_text)
        footprints = bina_footprints(codes.unique().tolist(), self.srid)
        found = codes.map(footprints)
        have = found.notna()
        if have.any():
            frame.loc[found.index[have], frame.geometry.name] = gpd.GeoSeries(
                found[have].to_numpy(), index=found.index[have], crs=frame.crs)
            report.diagnostics.append(Diagnostic(
                "FOOTPRINT_FROM_UAVT", "warning", "{n} building(s) without a footprint took "
                "the footprint of the building with the same UAVT code in the bina layer.",
                {"n": int(have.sum())}).as_dict())
        missing = found.index[~have].to_numpy()
        if len(missing):
            return [_problems(missing, "UAVT_NOT_FOUND", ERROR, field_name="uavt_bina_kodu",
                              value=codes[~have].to_numpy())]
        return []

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.models import Building, Neighbourhood
        from gis_core.services import save_with_rules

        footprint = _geos(geom, self.srid)
        if isinstance(footprint, Polygon):
            footprint = MultiPolygon(footprint, srid=self.srid)
        mahalle = _text(row.get("mahalle_adi"))
        values: dict[str, Any] = {
            "name": _text(row.get("ad")), "uavt_code": _text(row.get("uavt_bina_kodu")),
            "street": _text(row.get("sokak_adi")), "door_number": _text(row.get("kapi_no")),
            "neighbourhood": Neighbourhood.objects.filter(name=mahalle).first() if mahalle
            else None}
        if row.get("kat_sayisi") is not None:
            values["floor_count"] = int(row["kat_sayisi"])
        if footprint is not None:
            values["footprint"] = footprint
        code = _text(row.get("kod"))
        building = self.lookups.buildings.get(fold(code))
        if building is None:
            if footprint is None:
                raise RowProblem("GEOM_EMPTY")
            building = Building(code=code)
            _changed(building, values)
            save_with_rules(building)
            self.lookups.buildings[fold(code)] = building
            return Outcome("inserted")
        if not _changed(building, values):
            return Outcome("unchanged")
        save_with_rules(building)
        return Outcome("updated")


def bina_footprints(codes: list[str], srid: int) -> dict[str, Any]:
    """Footprints (shapely, in ``srid``) of the ``bina`` layer's buildings by UAVT code."""
    from django.db import connection

    from layers.registry import registry

    try:
        bina = registry.get("bina")
    except Exception:  # noqa: BLE001 - no bina layer in this deployment
        return {}
    from etl.load import _qualified, _quote, table_columns

    table = str(bina.backing.table)
    if not codes or not table_columns(table):
        return {}
    geom = _quote(bina.geometry_column)
    with connection.cursor() as cur:
        cur.execute(f"SELECT uavt_bina_kodu::text, ST_AsBinary(ST_Transform({geom}, %s)) "  # noqa: S608
                    f"FROM {_qualified(table)} WHERE uavt_bina_kodu::text = ANY(%s)",
                    [srid, codes])
        return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in cur.fetchall()
                if wkb is not None}


_ADDRESS_WORDS = re.compile(r"\b(mahallesi|mahalle|mah|mh|caddesi|cadde|cad|cd|sokagi|sokak|"
                            r"sok|sk|bulvari|bulvar|blv|bulv)\b\.?")


def address_key(mahalle: str, street: str, door: str) -> tuple[str, str, str]:
    """An address compared without case, Turkish letters, punctuation or the words that name
    the kind of place (``Mahallesi``, ``Cad.``, ``Sokak`` ...).

    Examples
    --------
    >>> address_key("Akarbaşı Mah.", "İnönü Cad.", "12") == address_key("AKARBAŞI", "inönü", "12")
    True
    """
    def key(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "", _ADDRESS_WORDS.sub(" ", fold(text)))

    return key(mahalle), key(street), fold(door).replace(" ", "")


def address_footprints(doors: list[str], srid: int) -> dict[tuple[str, str, str],
                                                           tuple[Any, str]]:
    """``bina`` footprints (shapely, in ``srid``) and UAVT codes by the address of the
    ``numarataj`` points they hold, for the given door numbers."""
    from django.db import connection

    from etl.load import _qualified, _quote, table_columns
    from layers.registry import registry

    try:
        bina, numarataj = registry.get("bina"), registry.get("numarataj")
    except Exception:  # noqa: BLE001 - a deployment without these layers
        return {}
    if not doors or not table_columns(str(bina.backing.table)) or not table_columns(
            str(numarataj.backing.table)):
        return {}
    bg, ng = _quote(bina.geometry_column), _quote(numarataj.geometry_column)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT n.mahalle_adi, n.sokak_adi, n.kapi_no, "  # noqa: S608
            f"ST_AsBinary(ST_Transform(b.{bg}, %s)), b.uavt_bina_kodu::text "
            f"FROM {_qualified(str(numarataj.backing.table))} n "
            f"JOIN {_qualified(str(bina.backing.table))} b ON ST_Covers(b.{bg}, n.{ng}) "
            "WHERE n.kapi_no::text = ANY(%s)", [srid, doors])
        return {address_key(m or "", s or "", d or ""): (shapely.from_wkb(bytes(w)), u or "")
                for m, s, d, w, u in cur.fetchall() if w is not None}


class RoomImporter(Importer):
    """``oda``: floors and rooms by building code and room code; the outline is optional."""

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.models import Floor, Room
        from gis_core.services import save_with_rules

        building = self.building(_text(row.get("bina_kodu")))
        floor = None
        created_floor = False
        number = row.get("kat_no")
        if number is not None and number is not pd.NA:
            floor = Floor.objects.filter(building=building, number=int(number)).first()
            if floor is None:
                floor = save_with_rules(Floor(building=building, number=int(number)))
                created_floor = True
        code = _text(row.get("kod"))
        outline = _geos(geom, self.srid)
        if isinstance(outline, MultiPolygon) and len(outline) == 1:
            outline = outline[0]
        values: dict[str, Any] = {"name": _text(row.get("ad")), "floor": floor}
        if self.columns is None or self.columns & {"birim_kodu", "birim_adi"}:
            # a file without a department column keeps the rooms' departments
            values["department"] = self.department(row)
        if outline is not None:
            values["outline"] = outline
        room = self.lookups.rooms.get((building.pk, fold(code)))
        if room is None:
            room = Room(building=building, code=code)
            _changed(room, values)
            save_with_rules(room)
            self.lookups.rooms[(building.pk, fold(code))] = room
            self.lookups.rooms_by_code.setdefault(fold(code), []).append(room)
            return Outcome("inserted")
        if not _changed(room, values):
            return Outcome("updated" if created_floor else "unchanged")
        save_with_rules(room)
        return Outcome("updated")


class AssetImporter(Importer):
    """``bt_varlik``: IT assets by inventory number, placed in their room or building.
    Several devices often stand at one point (a computer, its monitor and its printer on one
    desk; every device of a building at its address): a repeated point is a warning."""

    lenient = frozenset({"GEOM_DUPLICATE"})
    stored: dict[str, Any] | None = None

    def prepare(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> list[pd.DataFrame]:
        if "durum" not in frame.columns:
            placed = (frame["oda_kodu"].notna() if "oda_kodu" in frame.columns
                      else pd.Series(False, index=frame.index))
            frame["durum"] = np.where(placed.to_numpy(dtype=bool), "in_service", "in_stock")
            report.diagnostics.append(Diagnostic(
                "DEFAULT_APPLIED", "warning", "The file has no status column: assets in a room "
                "were recorded as in service, the others as in stock.").as_dict())
        normalise_codes(frame, self.layer, report, words={"kategori": CATEGORY_WORDS})
        return []

    def place(self, row: dict[str, Any]) -> tuple[Any, Any]:
        """The asset's building and room from its codes (a room code alone names its
        building when only one building has such a room)."""
        building_code, room_code = _text(row.get("bina_kodu")), _text(row.get("oda_kodu"))
        building = self.building(building_code) if building_code else None
        room = None
        if room_code:
            if building is not None:
                room = self.lookups.rooms.get((building.pk, fold(room_code)))
                if room is None:
                    elsewhere = self.lookups.rooms_by_code.get(fold(room_code), [])
                    if elsewhere:
                        raise RowProblem("ROOM_NOT_IN_BUILDING", "oda_kodu", room_code,
                                         ", ".join(sorted(r.building.code for r in elsewhere)))
                    raise RowProblem("ROOM_UNKNOWN", "oda_kodu", room_code)
            else:
                rooms = self.lookups.rooms_by_code.get(fold(room_code), [])
                if not rooms:
                    raise RowProblem("ROOM_UNKNOWN", "oda_kodu", room_code)
                if len(rooms) > 1:
                    raise RowProblem("ROOM_AMBIGUOUS", "oda_kodu", room_code,
                                     ", ".join(sorted(r.building.code for r in rooms)))
                room = rooms[0]
                building = room.building
        return building, room

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.choices import AssetStatusChoices
        from gis_core.models import Asset
        from gis_core.services import register_asset, save_with_rules, transition_asset

        building, room = self.place(row)
        location = _geos(geom, self.srid)
        if isinstance(location, Point) and building is not None and not building.footprint.covers(
                location):
            raise RowProblem("ASSET_OUTSIDE_BUILDING", "", building.code)
        if location is None and room is not None and room.outline is not None:
            location = room.outline.point_on_surface
        elif location is None and building is not None:
            location = building.footprint.point_on_surface
        department = None
        dep_text = _text(row.get("birim_kodu")) or _text(row.get("birim_adi"))
        if dep_text:
            department = self.lookups.departments.get(fold(dep_text))
            if department is None:
                raise RowProblem("DEPARTMENT_UNKNOWN", "birim_kodu", dep_text)
        ip = _text(row.get("ip_adresi"))
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise RowProblem("IP_FORMAT", "ip_adresi", ip) from None
        mac = _text(row.get("mac_adresi"))
        if mac:
            raw = "".join(ch for ch in mac.upper() if ch in "0123456789ABCDEF")
            if len(raw) != 12 or len(mac) > 17 or any(
                    ch not in "0123456789ABCDEFabcdef:-. " for ch in mac):
                raise RowProblem("MAC_FORMAT", "mac_adresi", mac)
            mac = ":".join(raw[i:i + 2] for i in range(0, 12, 2))
        values: dict[str, Any] = {
            "tasinir_code": _text(row.get("tasinir_kodu")), "category": _text(row.get("kategori")),
            "brand": _text(row.get("marka")), "model": _text(row.get("model")),
            "serial_number": _text(row.get("seri_no")), "department": department,
            "assigned_person": _text(row.get("zimmetli_kisi")), "building": building,
            "room": room, "location": location, "hostname": _text(row.get("bilgisayar_adi")),
            "ip_address": ip or None, "mac_address": mac}
        for name, source in (("purchase_date", "alim_tarihi"), ("warranty_end", "garanti_bitis")):
            value = row.get(source)
            values[name] = None if value is None or value is pd.NA or pd.isna(value) else value
        status = _text(row.get("durum"))
        number = _text(row.get("demirbas_no"))
        if self.stored is None:  # the register's assets, read once
            self.stored = Asset.objects.in_bulk(field_name="inventory_number")
        asset = self.stored.get(number)
        if asset is None:
            asset = Asset(inventory_number=number, status=status)
            _changed(asset, values)
            register_asset(asset=asset, user=self.user, reason="ETL")
            self.stored[number] = asset
            return Outcome("inserted")
        changed = False
        if asset.status != status:
            if asset.status == AssetStatusChoices.SCRAPPED:
                raise RowProblem("ASSET_SCRAPPED", "durum", status)
            transition_asset(asset=asset, to_status=status, user=self.user, reason="ETL")
            asset.refresh_from_db()
            changed = True
        elif asset.status == AssetStatusChoices.SCRAPPED and values["assigned_person"]:
            raise RowProblem("ASSET_SCRAPPED", "zimmetli_kisi", values["assigned_person"])
        if _changed(asset, values):
            save_with_rules(asset)
            changed = True
        return Outcome("updated" if changed else "unchanged")


class LinkImporter(Importer):
    """``ag_baglanti``: network links by link number (when given), else by circuit id and
    provider, else by their two ends and medium; the route is optional."""

    assigned = frozenset({"baglanti_no"})

    def prepare(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> list[pd.DataFrame]:
        normalise_codes(frame, self.layer, report)
        return []

    def _end(self, row: dict[str, Any], side: str) -> tuple[Any, Any]:
        from gis_core.models import Asset

        code, device = _text(row.get(f"{side}_bina_kodu")), _text(row.get(f"{side}_cihaz"))
        building = self.building(code, f"{side}_bina_kodu") if code else None
        asset = None
        if device:
            asset = Asset.objects.filter(inventory_number=device).first()
            if asset is None:
                raise RowProblem("ASSET_UNKNOWN", f"{side}_cihaz", device)
        if building is None and asset is None:
            raise RowProblem("LINK_END_REQUIRED", f"{side}_bina_kodu")
        return building, asset

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.models import NetworkLink
        from gis_core.services import save_with_rules

        a_building, a_asset = self._end(row, "a")
        b_building, b_asset = self._end(row, "b")
        route = _geos(geom, self.srid)
        values: dict[str, Any] = {
            "a_building": a_building, "a_asset": a_asset, "b_building": b_building,
            "b_asset": b_asset, "medium": _text(row.get("ortam")),
            "provider": _text(row.get("saglayici")), "circuit_id": _text(row.get("devre_no"))}
        capacity = row.get("kapasite_mbps")
        values["capacity_mbps"] = None if capacity is None or capacity is pd.NA else int(capacity)
        if _text(row.get("durum")):
            values["status"] = _text(row.get("durum"))
        if route is not None:
            values["route"] = route
        number = row.get("baglanti_no")
        links = NetworkLink.objects.all()
        if number is not None and number is not pd.NA:
            link = links.filter(pk=int(number)).first()
            if link is None:
                raise RowProblem("LINK_UNKNOWN", "baglanti_no", number)
        elif values["circuit_id"]:
            link = links.filter(circuit_id=values["circuit_id"],
                                provider=values["provider"]).first()
        else:
            link = links.filter(a_asset=a_asset, b_asset=b_asset, medium=values["medium"],
                                **({"a_building": a_building} if a_building else {}),
                                **({"b_building": b_building} if b_building else {})).first()
        if link is None:
            link = NetworkLink()
            _changed(link, values)
            save_with_rules(link)
            return Outcome("inserted")
        if not _changed(link, values):
            return Outcome("unchanged")
        save_with_rules(link)
        return Outcome("updated")


class SubscriptionImporter(Importer):
    """``abonelik``: voice and data line subscriptions, by provider and line number."""

    def prepare(self, frame: gpd.GeoDataFrame, report: reports.BatchReport) -> list[pd.DataFrame]:
        from gis_core.choices import SubscriptionKindChoices

        if "tur" in frame.columns:  # the kinds' Turkish or English names as their codes
            table = {}
            for value, label in SubscriptionKindChoices.choices:
                table[fold(value)] = value
                for part in str(label).split(" / "):
                    table.setdefault(fold(part).strip(), value)
            frame["tur"] = [table.get(fold(_text(v)).strip(), v) if _text(v) else v
                            for v in frame["tur"]]
        return []

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.models import NetworkLink, Subscription
        from gis_core.services import save_with_rules

        code = _text(row.get("bina_kodu"))
        circuit = _text(row.get("devre_no"))
        link = None
        if circuit:
            link = NetworkLink.objects.filter(circuit_id=circuit).first()
            if link is None:
                raise RowProblem("LINK_UNKNOWN", "devre_no", circuit)
        values: dict[str, Any] = {
            "kind": _text(row.get("tur")), "building": self.building(code) if code else None,
            "link": link, "contract_number": _text(row.get("sozlesme_no")),
            "start_date": row.get("baslangic"), "end_date": row.get("bitis"),
            "monthly_fee": row.get("aylik_ucret"), "payment_day": int(row["odeme_gunu"])}
        fee = values["monthly_fee"]
        values["monthly_fee"] = None if fee is None else round(Decimal(str(fee)), 2)
        provider, number = _text(row.get("saglayici")), _text(row.get("hat_no"))
        sub = Subscription.objects.filter(provider=provider, line_number=number).first()
        if sub is None:
            sub = Subscription(provider=provider, line_number=number)
            _changed(sub, values)
            save_with_rules(sub)
            return Outcome("inserted")
        if not _changed(sub, values):
            return Outcome("unchanged")
        save_with_rules(sub)
        return Outcome("updated")


class NeighbourhoodImporter(Importer):
    """``mahalle``: the neighbourhood boundaries, by their official name (the layer's key
    ``ad``, "Mahallesi" already stripped by validation); a name not stored yet is a new
    neighbourhood. A file without ``uavt_kodu`` leaves the stored codes as they are."""

    def write(self, row: dict[str, Any], geom: Any) -> Outcome:
        from gis_core.models import Neighbourhood
        from gis_core.services import save_with_rules

        if isinstance(geom, shapely.Polygon):
            geom = shapely.MultiPolygon([geom])
        name = _text(row.get("ad"))
        values: dict[str, Any] = {"name": name, "geom": _geos(geom, self.srid)}
        if "uavt_kodu" in row:
            values["uavt_code"] = _text(row.get("uavt_kodu"))
        found = Neighbourhood.objects.filter(name=name).first()
        if found is None:
            found = Neighbourhood()
            _changed(found, values)
            save_with_rules(found)
            return Outcome("inserted")
        if not _changed(found, values):
            return Outcome("unchanged")
        save_with_rules(found)
        return Outcome("updated")


IMPORTERS: dict[str, type[Importer]] = {
    "bina_hizmet": BuildingImporter, "oda": RoomImporter, "bt_varlik": AssetImporter,
    "ag_baglanti": LinkImporter, "abonelik": SubscriptionImporter,
    "mahalle": NeighbourhoodImporter}


def _subscription_layer_data() -> dict[str, Any]:
    from gis_core.choices import SubscriptionKindChoices

    def text(name: str, source: str, tr: str, en: str, **more: Any) -> dict[str, Any]:
        return {"name": name, "type": "string", "source": source,
                "title": {"tr": tr, "en": en}, **more}

    return {
        "code": "abonelik", "version": 1, "theme": "kamu_hizmetleri",
        "title": {"tr": "Hat abonelikleri", "en": "Line subscriptions"},
        "geometry_type": "Point",
        "fields": [
            text("saglayici", "provider", "Servis sağlayıcı", "Provider", required=True),
            text("hat_no", "line_number", "Hat/devre no", "Line number", required=True),
            text("tur", "kind", "Tür", "Kind", required=True,
                 enum=list(SubscriptionKindChoices.values)),
            text("bina_kodu", "building.code", "Bina kodu", "Building code"),
            text("devre_no", "link.circuit_id", "Bağlantının devre no", "Link circuit id"),
            text("sozlesme_no", "contract_number", "Sözleşme no", "Contract number"),
            {"name": "baslangic", "type": "date", "source": "start_date", "required": True,
             "title": {"tr": "Başlangıç", "en": "Start"}},
            {"name": "bitis", "type": "date", "source": "end_date",
             "title": {"tr": "Bitiş", "en": "End"}},
            {"name": "aylik_ucret", "type": "decimal", "source": "monthly_fee", "min": 0,
             "required": True, "title": {"tr": "Aylık ücret (TL)", "en": "Monthly fee (TRY)"}},
            {"name": "odeme_gunu", "type": "integer", "source": "payment_day", "min": 1,
             "max": 31, "required": True, "title": {"tr": "Ödeme günü", "en": "Payment day"}},
        ],
        "geometry_rules": {"valid": True, "not_empty": False},
        "key": ["saglayici", "hat_no"], "owner": "bilgi_islem",
        "backing": {"kind": "model", "model": "gis_core.Subscription"},
    }


def inventory_layer(code: str) -> Any:
    """Inventories with no layer of their own in the registry (they have no place on the
    map): ``abonelik``, line subscriptions (``kentcbs ingest abonelik FILE``). ``None`` for
    any other code."""
    if code != "abonelik":
        return None
    from layers.registry import build_definition

    return build_definition(_subscription_layer_data(), name="etl.load_models.abonelik")


def mapping_with_aliases(layer: Any, mapping: dict[str, str]) -> dict[str, str]:
    """The sender's mapping over the layer's known header variants (:data:`ALIASES`)."""
    names = set(layer.field_names)
    aliases = {k: v for k, v in ALIASES.get(layer.code, {}).items() if k not in names}
    return {**aliases, **mapping}


# -- the run ----------------------------------------------------------------------------
def run_models(batch: Batch, layer: Any, path: Path, workdir: Path,
               report: reports.BatchReport, *, crs: str | None, dry_run: bool, strict: bool,
               mapping: Path | dict[str, str] | None,
               progress: Callable[[int, int | None], None] | None,
               chunk_size: int, limits: Limits | None, digest: Future[str] | None = None,
               accept_shift: bool = False) -> None:
    """:func:`etl.services._run` for a model-backed layer (see the module's text)."""
    from etl.services import _final_status, _first_chunk_checks, municipality_area
    from gis_core.audit import audit_context

    importer_class = IMPORTERS.get(layer.code)
    if importer_class is None:
        raise UploadRefused("LAYER_NOT_LOADABLE", "Layer {layer} is backed by a model that "
                            "KentCBS does not load from files; it is edited in KentCBS.",
                            layer=layer.code)
    limits = limits or Limits.from_settings()
    info = open_upload(path, workdir=workdir, limits=limits)
    report.diagnostics += [d.as_dict() for d in info.diagnostics]
    batch.file_format = info.format
    batch.encoding = f"{info.encoding or 'utf-8'} ({info.encoding_note})"[:60]
    srid = int(layer.srid)
    if info.attributes_only:
        wants = layer.code == "bina_hizmet" and any(
            field_key(c) in ("uavt_bina_kodu", "uavt", "uavt_kodu", "uavt_kod")
            for c in info.fields)
        if not wants:
            require_geometry(info, layer)
        source_crs, notes = resolve_crs(file_crs=f"EPSG:{srid}", declared=None)
        batch.crs = "-"
    else:
        source_crs, notes = resolve_crs(file_crs=table_crs(info, crs, report), declared=crs,
                                        file_says=info.crs_text)
        batch.crs = (f"EPSG:{source_crs.to_epsg()}" if source_crs.to_epsg()
                     else source_crs.name)[:120]
    report.diagnostics += [d.as_dict() for d in notes]
    boundary, mun_box = municipality_area(srid)
    report.boundary = boundary
    chunks = list(read_chunks(info, crs=source_crs.to_wkt(), chunk_size=chunk_size,
                              limits=limits))
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise UploadRefused("EMPTY_DATASET", "The file holds no features.")
    original = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    original = original.set_crs(source_crs, allow_override=True)
    if not info.attributes_only:
        _first_chunk_checks(original, layer, source_crs, mun_box, report,
                            file_says=None if crs else info.crs_text)
    columns = [c for c in original.columns if c != original.geometry.name]
    # the web mapping step's dict (a column mapped to "" is left out) or a file
    mapping_dict = ({k: v or "-" for k, v in mapping.items()}
                    if isinstance(mapping, dict) else load_mapping(mapping))
    match = match_fields(columns, layer.field_names,
                         mapping=mapping_with_aliases(layer, mapping_dict))
    report.summary["unknown_columns"] = match.unknown
    if match.unknown:
        report.diagnostics.append(Diagnostic(
            "UNKNOWN_COLUMNS", "warning", "Columns not in the layer's standard (kept in the "
            "report, not loaded): {columns}", {"columns": ", ".join(match.unknown)}).as_dict())
    missing = [m for m in match.missing if m not in importer_class.assigned]
    if missing:
        report.diagnostics.append(Diagnostic(
            "MISSING_COLUMNS", "warning", "Fields of the standard not in the file: {columns}",
            {"columns": ", ".join(missing)}).as_dict())
    renamed = original.rename(columns=match.rename)
    renamed = renamed[[c for c in renamed.columns if c in layer.field_names]
                      + [renamed.geometry.name]]
    # code-list values: "Emek Mahallesi" -> "Emek", the department's aliases -> entries, each
    # change a warning (an inventory keeps its street names and addresses as written)
    renamed, value_notes = normalise_values(renamed, layer, department=batch.department,
                                            streets=False)
    stored = to_storage(renamed, srid)
    user = batch.user if getattr(batch.user, "is_authenticated", False) else None
    with audit_context(user=user, source="etl"), transaction.atomic():
        lookups = Lookups.read()
        importer = importer_class(layer, lookups, user)
        importer.columns = frozenset(renamed.columns)
        early = importer.prepare(stored, report)
        result = validate_chunk(stored, layer, FileState(), boundary=boundary,
                                unique_lookup=None)
        problems = pd.concat([result.problems, value_notes, *early], ignore_index=True)
        if importer_class.assigned:
            problems = problems[~((problems["code"] == "REQUIRED")
                                  & problems["field"].isin(importer_class.assigned))]
        if importer_class.lenient:
            problems.loc[problems["code"].isin(importer_class.lenient), "severity"] = "warning"
        bad = set(problems.loc[problems["severity"] == ERROR, "feature"].astype(int))
        written: list[pd.DataFrame] = []
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        frame = result.frame
        fields = [c for c in frame.columns if c != frame.geometry.name]
        records = frame[fields].astype(object).where(frame[fields].notna(), None)
        geoms = frame.geometry.to_numpy()
        for position, feature in enumerate(frame.index.to_numpy()):
            if int(feature) in bad:
                continue
            row = dict(zip(fields, records.iloc[position].tolist(), strict=True))
            try:
                with transaction.atomic():
                    outcome = importer.write(row, geoms[position])
            except RowProblem as exc:
                written.append(_problems([feature], exc.code, ERROR, field_name=exc.field_name,
                                         value=[exc.value], detail=exc.detail))
                continue
            except KentCBSError as exc:
                written.append(_problems([feature], exc.code, ERROR,
                                         detail=_rule_detail(exc)))
                continue
            except (IntegrityError, DatabaseError, ValueError, TypeError,
                    ArithmeticError) as exc:
                # a rule the database keeps that no message explains, or a value the model
                # cannot hold: this row's reason, never the batch's failure
                text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                written.append(_problems([feature], "ROW_REFUSED", ERROR, detail=text))
                continue
            counts[outcome.action] += 1
            if progress:
                progress(position + 1, len(frame))
        problems = pd.concat([problems, *written], ignore_index=True) if written else problems
        if problems.empty:
            problems = empty_problems()
        _name_keys(problems, frame, layer)
        rejected = np.unique(problems.loc[problems["severity"] == ERROR, "feature"]
                             .to_numpy(dtype=np.int64))
        is_bad = frame.index.isin(rejected)
        batch.count_read = len(frame)
        batch.count_rejected = int(is_bad.sum())
        batch.count_loaded = len(frame) - batch.count_rejected
        batch.count_warnings = len(problems.loc[problems["severity"] == "warning",
                                                "feature"].unique())
        report.problems.append(problems)
        if is_bad.any():
            report.rejected.append(to_storage(original.loc[is_bad], srid))
        flagged = frame.index.isin(problems["feature"].unique())
        if flagged.any():
            report.locations.append(stored.geometry[flagged])
        strict_reject = strict and len(rejected) > 0
        if dry_run or strict_reject:
            transaction.set_rollback(True)
        else:
            batch.count_inserted = counts["inserted"]
            batch.count_updated = counts["updated"]
            batch.count_unchanged = counts["unchanged"]
            _quarantine(batch, renamed.loc[is_bad], problems, srid)
        _final_status(batch, layer, strict=strict, dry_run=dry_run,
                      errors_seen=len(rejected), digest=digest)
        if not (dry_run or strict_reject):
            batch.finished = timezone.now()
            batch.save()
    if strict_reject and not dry_run:
        # the rows were rolled back; the rejected ones are kept, as the table loader keeps them
        with transaction.atomic():
            _quarantine(batch, renamed.loc[is_bad], problems, srid)
            batch.finished = timezone.now()
            batch.save()


def _rule_detail(exc: KentCBSError) -> str:
    """A core rule's own English text (its message template has no placeholders)."""
    return str(getattr(exc, "english", "") or exc)[:300]


def _name_keys(problems: pd.DataFrame, frame: pd.DataFrame, layer: Any) -> None:
    """Fill each problem's ``key`` with its feature's key value (as the reports show it)."""
    if problems.empty:
        return
    names = [k for k in layer.key if k in frame.columns]
    if not names:
        return
    keys = frame[names].astype("string").fillna("").agg(", ".join, axis=1)
    lookup = keys.to_dict()
    problems["key"] = [lookup.get(int(f)) or None for f in problems["feature"]]


def _quarantine(batch: Batch, rows: gpd.GeoDataFrame, problems: pd.DataFrame,
                srid: int) -> None:
    """Keep the rejected rows with their errors (as the table loader does)."""
    if rows.empty:
        return
    errs = problems[problems["severity"] == ERROR]
    by_feature: dict[int, list[dict[str, Any]]] = {}
    for rec in errs[["feature", "code", "field", "value", "detail"]].itertuples(index=False):
        by_feature.setdefault(int(rec.feature), []).append(
            {"code": rec.code, "field": rec.field or "", "value": _text(rec.value),
             "detail": _text(rec.detail)})
    stored = to_storage(rows, srid)
    fields = [c for c in stored.columns if c != stored.geometry.name]
    Quarantine.objects.bulk_create([
        Quarantine(batch=batch, feature_index=int(feature),
                   properties={k: _text(v) for k, v in zip(fields, values, strict=True)},
                   geom=_geos(geom, srid), errors=by_feature.get(int(feature), []))
        for feature, values, geom in zip(stored.index, stored[fields].itertuples(
            index=False, name=None), stored.geometry, strict=True)])
