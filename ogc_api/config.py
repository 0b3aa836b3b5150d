"""The pygeoapi configuration, generated from the layer registry (never hand-kept).

:func:`build_config` is a pure function of the layer definitions a caller may
read (and which of their personal fields they may see); the gate in
:mod:`ogc_api.views` builds one per distinct view and caches it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygeoapi
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from psycopg2 import sql

from ogc_api.query import CRS84, MAX_LIMIT, crs_uri, supported_crs, table_ref
from ogc_api.schemas import schema_links

if TYPE_CHECKING:
    from layers.schema import LayerDefinition

logger = logging.getLogger(__name__)
PROVIDER = "ogc_api.provider.RegistryProvider"
#: KentCBS's own versions of some pygeoapi templates (frame, Swagger UI, ReDoc); pygeoapi
#: looks there first and falls back to its own.
TEMPLATES = Path(__file__).resolve().parent / "pygeoapi_templates"
PYGEOAPI_STATIC = Path(pygeoapi.__file__).resolve().parent / "static"
#: Half the side (degrees) of the box around the profile's centre, the extent of an
#: empty layer when the municipality has no boundary loaded yet.
CENTRE_MARGIN = 0.1


@dataclass(frozen=True)
class LayerView:
    """A layer as one caller sees it: the definition, the field names they may read and
    the rows they may read (``rows``: an SQL condition from ``layers.access.row_condition``,
    None for every row)."""

    layer: LayerDefinition
    fields: tuple[str, ...]
    rows: str | None = None

    @property
    def key(self) -> tuple[str, int, tuple[str, ...], str | None]:
        return (self.layer.code, self.layer.version, self.fields, self.rows)


#: Extents are kept this long (seconds): a load shows in the collection's extent soon after.
EXTENT_TTL = 60.0
_EXTENTS: dict[tuple[str, int], tuple[float, list[float]]] = {}
_EXTENT_LOCK = threading.Lock()


_TABLES: dict[str, tuple[float, frozenset[str]]] = {}
_TABLES_TTL = 30.0


def existing_tables(tables: list[str]) -> frozenset[str]:
    """Which of ``tables`` exist in the database (one query, cached for 30 seconds)."""
    key = connection.settings_dict["NAME"] + "|" + ",".join(sorted(tables))
    now = time.monotonic()
    with _EXTENT_LOCK:
        hit = _TABLES.get(key)
    if hit and hit[0] > now:
        return hit[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM unnest(%s::text[]) AS name "
                       "WHERE to_regclass(name) IS NOT NULL", [sorted(tables)])
        found = frozenset(row[0] for row in cursor.fetchall())
    with _EXTENT_LOCK:
        _TABLES[key] = (now + _TABLES_TTL, found)
    return found


def table_exists(layer: LayerDefinition) -> bool:
    """True when the layer's table or view is in the database (synced)."""
    return str(layer.backing.table) in existing_tables([str(layer.backing.table)])


def _bbox_of(statement: sql.Composable, what: str) -> list[float] | None:
    """CRS84 bbox from a query answering xmin, ymin, xmax, ymax (None when empty)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
            row = cursor.fetchone()
    except DatabaseError as exc:
        # a stored geometry outside the CRS's domain: fall back instead of failing
        logger.warning("extent of %s cannot be projected to CRS84: %s", what, exc)
        return None
    if not row or row[0] is None:
        return None
    return [round(float(v), 6) for v in row]


def municipality_extent() -> list[float]:
    """CRS84 bbox of the municipality's boundary (a box around its centre if none is loaded)."""
    from gis_core.models import Municipality
    from gis_core.profiles import get_profile

    bbox = _bbox_of(sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
        "ST_Transform(boundary, 4326)::box2d AS e FROM {} "
        "WHERE code = {} AND boundary IS NOT NULL) AS x").format(
            sql.Identifier(Municipality._meta.db_table),
            sql.Literal(settings.KENTCBS_PROFILE)), "the municipality")
    if bbox is not None:
        return bbox
    lon, lat = get_profile(settings.KENTCBS_PROFILE).centre
    return [lon - CENTRE_MARGIN, lat - CENTRE_MARGIN, lon + CENTRE_MARGIN, lat + CENTRE_MARGIN]


def layer_extent(layer: LayerDefinition) -> list[float]:
    """CRS84 bbox of the layer's features (cached per process for EXTENT_TTL seconds).

    An empty layer (or one whose geometries are all missing) has the
    municipality's extent: that is where its features will be.
    """
    key = (layer.code, layer.version)
    with _EXTENT_LOCK:
        hit = _EXTENTS.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    statement = sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
        "ST_Transform(ST_SetSRID(ST_Extent({})::geometry, {}), 4326) AS e FROM {}) AS x"
    ).format(sql.Identifier(layer.geometry_column), sql.Literal(layer.srid), table_ref(layer))
    bbox = _bbox_of(statement, layer.code) or municipality_extent()
    if bbox[0] == bbox[2] or bbox[1] == bbox[3]:
        bbox = [bbox[0] - 0.001, bbox[1] - 0.001, bbox[2] + 0.001, bbox[3] + 0.001]
    with _EXTENT_LOCK:
        _EXTENTS[key] = (time.monotonic() + EXTENT_TTL, bbox)
    return bbox


_GENERATION = [0]


def generation() -> tuple[int, int]:
    """Part of the key of every cached configuration: it changes when extents may have.

    That is after :func:`forget_extents` and every :data:`EXTENT_TTL` seconds.
    """
    return _GENERATION[0], int(time.monotonic() // EXTENT_TTL)


def forget_extents() -> None:
    """Drop cached extents and table lists (after loads and syncs), and the configurations
    built with them."""
    with _EXTENT_LOCK:
        _EXTENTS.clear()
        _TABLES.clear()
        _GENERATION[0] += 1


SORTABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/sortables"


def resource(view: LayerView, *, extent: list[float], base_url: str = "") -> dict[str, Any]:
    """The pygeoapi resource of one layer."""
    layer = view.layer
    sortables = f"{base_url.rstrip('/')}/collections/{layer.code}/sortables"
    return {
        "type": "collection",
        "title": {"tr": layer.title.tr, "en": layer.title.en},
        "description": {"tr": layer.description.tr or layer.title.tr,
                        "en": layer.description.en or layer.title.en},
        "keywords": list(layer.keywords) or [layer.code],
        "links": [{"type": "application/schema+json", "rel": SORTABLES_REL,
                   "title": {"tr": "Sıralanabilir alanlar", "en": "Sortables"},
                   "href": sortables}, *schema_links(view, base_url=base_url)],
        "extents": {"spatial": {"bbox": extent, "crs": CRS84}},
        "providers": [{
            "type": "feature",
            "name": PROVIDER,
            "data": layer.code,
            "properties": list(view.fields),
            "rows": view.rows,
            "id_field": layer.id_column,
            "storage_crs": crs_uri(layer.srid),
            "crs": supported_crs(layer),
            "editable": False,
            "count": False,
        }],
    }


def build_config(views: list[LayerView], *, base_url: str,
                 extents: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """The whole pygeoapi configuration for these layer views.

    Parameters
    ----------
    views : the layers the caller may read, with their visible fields
    base_url : absolute URL of the API root (``https://host/ogc``)
    extents : CRS84 bbox per layer code (looked up in the database when missing)

    Examples
    --------
    >>> cfg = build_config([], base_url="http://localhost/ogc")
    >>> cfg["server"]["admin"], cfg["resources"]
    (False, {})
    """
    extents = extents or {}
    from gis_core.profiles import get_profile

    profile = get_profile(settings.KENTCBS_PROFILE)
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": base_url.rstrip("/"),
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "languages": ["tr", "en"],
            "pretty_print": False,
            "admin": False,
            "limits": {"default_items": 10, "max_items": MAX_LIMIT, "on_exceed": "error"},
            "map": {"url": "", "attribution": ""},
            "templates": {"path": str(TEMPLATES), "static": str(PYGEOAPI_STATIC)},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {"tr": f"{profile.name} KentCBS OGC API",
                          "en": f"{profile.name} KentCBS OGC API"},
                "description": {"tr": "Belediye CBS katmanları (OGC API – Features, Tiles)",
                                "en": "Municipal GIS layers (OGC API – Features, Tiles)"},
                "keywords": {"tr": ["CBS", "KentCBS"], "en": ["GIS", "KentCBS"]},
                "keywords_type": "theme",
                "terms_of_service": base_url.rstrip("/"),
                "url": base_url.rstrip("/"),
            },
            "license": {"name": "Belediye içi kullanım / internal use",
                        "url": base_url.rstrip("/")},
            "provider": {"name": profile.name, "url": base_url.rstrip("/")},
            "contact": {"name": "Bilgi İşlem Müdürlüğü", "position": "CBS",
                        "address": "", "city": profile.name, "stateorprovince": profile.province,
                        "postalcode": "", "country": "Türkiye", "phone": "", "fax": "",
                        "email": "", "url": base_url.rstrip("/"), "hours": "",
                        "instructions": "", "role": "pointOfContact"},
        },
        "resources": {
            view.layer.code: resource(view, extent=extents.get(view.layer.code)
                                      or layer_extent(view.layer), base_url=base_url)
            for view in views
        },
    }
