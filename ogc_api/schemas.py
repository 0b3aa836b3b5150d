"""What a collection's features look like, before any is read: JSON Schema and GML schema.

A client that opens an empty collection learns its fields and geometry type
only from a schema. Two are published, both built from the layer definition and
the fields the caller may see (so a personal field they may not read is absent):

- ``/collections/{id}/schema``: the JSON Schema of OGC API – Features Part 5
  (draft, "returnables"): one property per field, the geometry with
  ``x-ogc-role: primary-geometry`` and ``format: geometry-<type>``, the id with
  ``x-ogc-role: id``. Linked from the collection with ``rel="describedby"``.
- ``/collections/{id}/schema.xsd``: a GML 3.2 application schema, linked with
  ``rel="describedBy"`` and ``application/xml``. GDAL's OAPIF driver (3.6 on
  Debian 12) reads the schema behind exactly that spelling of the relation, takes
  the geometry type only from an XML schema, and reads a JSON Schema only in the
  shape of a whole GeoJSON feature; with this one ``ogrinfo`` lists the fields and
  geometry type of an empty collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from ogc_api.provider import JSON_TYPES

if TYPE_CHECKING:
    from ogc_api.config import LayerView

JSON_SCHEMA = "application/schema+json"
XML_SCHEMA = "application/xml"
#: Namespace of the GML application schema (a name, never fetched).
NAMESPACE = "urn:kentcbs:ogc:features"

#: Part 5 geometry formats per registry geometry type.
GEOMETRY_FORMATS = {
    "Point": "geometry-point", "MultiPoint": "geometry-multipoint",
    "LineString": "geometry-linestring", "MultiLineString": "geometry-multilinestring",
    "Polygon": "geometry-polygon", "MultiPolygon": "geometry-multipolygon",
}
#: GML 3.2 property types per registry geometry type (the names GDAL's XSD reader knows).
GML_GEOMETRY = {
    "Point": "gml:PointPropertyType", "MultiPoint": "gml:MultiPointPropertyType",
    "LineString": "gml:LineStringPropertyType",
    "MultiLineString": "gml:MultiLineStringPropertyType",
    "Polygon": "gml:PolygonPropertyType", "MultiPolygon": "gml:MultiPolygonPropertyType",
}
#: XML Schema types per registry field type.
XSD_TYPES = {
    "string": "xs:string", "text": "xs:string", "integer": "xs:integer",
    "decimal": "xs:decimal", "boolean": "xs:boolean", "date": "xs:date",
    "datetime": "xs:dateTime",
}


def schema_links(view: LayerView, *, base_url: str) -> list[dict[str, Any]]:
    """The collection's links to its schemas."""
    url = f"{base_url.rstrip('/')}/collections/{view.layer.code}/schema"
    return [
        {"rel": "describedby", "type": JSON_SCHEMA, "href": url,
         "title": {"tr": "Nesne şeması (JSON Schema)", "en": "Feature schema (JSON Schema)"}},
        {"rel": "describedBy", "type": XML_SCHEMA, "href": f"{url}.xsd",
         "title": {"tr": "Nesne şeması (GML uygulama şeması)",
                   "en": "Feature schema (GML application schema)"}},
    ]


def json_schema(view: LayerView, *, schema_id: str) -> dict[str, Any]:
    """The Features Part 5 (draft) schema of one layer as this caller sees it.

    Examples
    --------
    >>> from layers.registry import registry  # doctest: +SKIP
    >>> from ogc_api.config import LayerView  # doctest: +SKIP
    >>> view = LayerView(registry.get("yol"), ("yol_adi",))  # doctest: +SKIP
    >>> doc = json_schema(view, schema_id="x")  # doctest: +SKIP
    >>> doc["properties"]["geom"]["format"]  # doctest: +SKIP
    'geometry-multilinestring'
    """
    layer = view.layer
    properties: dict[str, Any] = {
        "id": {"title": "Kimlik / Identifier", "type": "integer", "x-ogc-role": "id",
               "readOnly": True},
        layer.geometry_column: {
            "title": "Geometri / Geometry",
            "format": GEOMETRY_FORMATS[layer.geometry_type],
            "x-ogc-role": "primary-geometry"},
    }
    for name in view.fields:
        field = layer.field(name)
        kind, fmt = JSON_TYPES[field.type]
        entry: dict[str, Any] = {"title": field.title.tr, "type": kind}
        if fmt:
            entry["format"] = fmt
        if field.description.en or field.description.tr:
            entry["description"] = field.description.tr or field.description.en
        if field.enum:
            entry["enum"] = list(field.enum)
        if field.max_length and kind == "string":
            entry["maxLength"] = field.max_length
        if field.min is not None and kind in {"integer", "number"}:
            entry["minimum"] = field.min
        if field.max is not None and kind in {"integer", "number"}:
            entry["maximum"] = field.max
        if field.unit:
            entry["x-ogc-unit"] = field.unit
        properties[name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": layer.title.tr,
        "description": layer.description.tr or layer.title.tr,
        "properties": properties,
        "additionalProperties": False,
    }


def gml_schema(view: LayerView) -> str:
    """The GML 3.2 application schema of one layer as this caller sees it."""
    layer = view.layer
    code = layer.code
    rows = [f'<xs:element name={quoteattr(layer.geometry_column)} '
            f'type="{GML_GEOMETRY[layer.geometry_type]}" minOccurs="0" nillable="true"/>']
    for name in view.fields:
        field = layer.field(name)
        rows.append(f'<xs:element name={quoteattr(name)} type="{XSD_TYPES[field.type]}" '
                    f'minOccurs="0" nillable="true"/>')
    body = "\n          ".join(rows)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:gml="http://www.opengis.net/gml/3.2"
    xmlns:k="{NAMESPACE}" targetNamespace="{NAMESPACE}"
    elementFormDefault="qualified" version="{layer.version}">
  <xs:import namespace="http://www.opengis.net/gml/3.2"/>
  <xs:element name={quoteattr(code)} type={quoteattr("k:" + code + "Type")}
      substitutionGroup="gml:AbstractFeature"/>
  <xs:complexType name={quoteattr(code + "Type")}>
    <xs:complexContent>
      <xs:extension base="gml:AbstractFeatureType">
        <xs:sequence>
          {body}
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
</xs:schema>
'''
