"""The pygeoapi feature provider for registry layers (``ogc_api.provider.RegistryProvider``).

pygeoapi uses it for what it renders itself (queryables, schema, the HTML items
pages); the JSON items path is served by :mod:`ogc_api.views` with the same SQL
(:mod:`ogc_api.query`), so both paths answer identically.
"""

from __future__ import annotations

import json
from typing import Any

from pygeoapi.provider.base import BaseProvider, ProviderItemNotFoundError

from ogc_api.cql2 import CRS84_SRID, north_first
from ogc_api.query import ItemsQuery, run_page

#: Registry field type -> JSON Schema (type, format).
JSON_TYPES: dict[str, tuple[str, str | None]] = {
    "string": ("string", None), "text": ("string", None), "integer": ("integer", None),
    "decimal": ("number", None), "boolean": ("boolean", None), "date": ("string", "date"),
    "datetime": ("string", "date-time"),
}


class RegistryProvider(BaseProvider):  # type: ignore[misc]
    """Read-only provider over a registry layer's ``backing.table``.

    ``data`` is the layer code, ``properties`` the field names this caller may see,
    ``rows`` the SQL condition on the rows they may see (None: every row).
    """

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        from layers.registry import registry

        self.layer = registry.get(str(provider_def["data"]))
        self.visible = list(provider_def.get("properties") or [])
        self.rows: str | None = provider_def.get("rows")
        self.id_field = self.layer.id_column
        self.get_fields()

    def get_fields(self) -> dict[str, dict[str, Any]]:
        if not self._fields:
            for name in self.visible:
                kind, fmt = JSON_TYPES[self.layer.field(name).type]
                entry: dict[str, Any] = {"type": kind}
                if fmt:
                    entry["format"] = fmt
                entry["title"] = self.layer.field(name).title.tr
                self._fields[name] = entry
        return self._fields

    def _query(self) -> ItemsQuery:
        types: dict[str, str] = {name: str(self.layer.field(name).type) for name in self.visible}
        return ItemsQuery(layer=self.layer, fields=types, rows=self.rows)

    def query(self, offset: int = 0, limit: int = 10, resulttype: str = "results",
              bbox: list[float] | None = None, properties: list[Any] | None = None,
              **kwargs: Any) -> dict[str, Any]:
        """One page by offset (the HTML pages); filters are checked by the gate first.

        pygeoapi hands over ``bbox`` already transformed from ``bbox-crs`` (CRS84 when
        absent) into the provider's ``storage_crs``, in that CRS's axis order: northing
        first for the TM zones (EPSG:5254 ...), so it is swapped back to PostGIS's x, y.
        """
        query = self._query()
        query.limit, query.offset = max(1, min(int(limit), 10_000)), max(0, int(offset))
        if bbox:
            x1, y1, x2, y2 = (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
            srid = self.layer.srid  # storage_crs is CRS84 (lon, lat) when srid is 4326
            if srid != CRS84_SRID and north_first(srid):
                x1, y1, x2, y2 = y1, x1, y2, x2
            query.bbox, query.bbox_srid = (x1, y1, x2, y2), srid
        for name, value in properties or []:
            if name in query.fields:
                query.properties[name] = value
        page = run_page(query, self.visible)
        features = json.loads(page.features)
        return {"type": "FeatureCollection", "features": features, "numberReturned": page.count}

    def get(self, identifier: Any, **kwargs: Any) -> dict[str, Any]:
        query = self._query()
        try:
            key = int(identifier)
        except (TypeError, ValueError):
            raise ProviderItemNotFoundError("not found") from None
        page = run_page(query, self.visible, single=key)
        if not page.count:
            raise ProviderItemNotFoundError("not found")
        feature: dict[str, Any] = json.loads(page.features)[0]
        return feature
