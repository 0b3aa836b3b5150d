"""Empty files a department fills for a layer: made from the layer's definition alone.

* :func:`geopackage_template`: an empty GeoPackage layer with the standard's fields, its
  geometry type and storage CRS, and the QGIS style of :func:`qml_style` stored as the
  layer's default style (QGIS's ``layer_styles`` table), so the code-list fields open as
  drop-downs in QGIS without any setting up;
* :func:`qml_style`: the same style as a ``.qml`` file (fields as value maps, field titles as
  aliases, required fields as not-null constraints);
* :func:`xlsx_template`: a workbook whose first sheet has one column per field (and the
  coordinate or WKT columns), with code lists as drop-down validations and whole-number
  ranges checked, and a second sheet describing each field.

A file filled from a template has the standard's own column names: the mapping step
(:mod:`etl.mapping`) takes every column as it is.
"""

from __future__ import annotations

import io
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    from layers.schema import FieldDefinition, LayerDefinition

#: Sheet names of the XLSX template (Turkish: departments' staff read them).
DATA_SHEET, FIELDS_SHEET, LISTS_SHEET = "veri", "alanlar", "kod_listeleri"
#: Rows of the data sheet that carry the drop-downs and checks.
XLSX_ROWS = 5000
#: Point layers are filled with coordinates (WGS 84); other layers with a WKT column.
LON_COLUMN, LAT_COLUMN, WKT_COLUMN = "boylam", "enlem", "wkt"


def template_fields(layer: LayerDefinition) -> list[FieldDefinition]:
    """The fields a department fills (computed ones are KentCBS's)."""
    return [f for f in layer.fields if not f.computed]


def allowed_values(fdef: FieldDefinition) -> list[tuple[str, str]] | None:
    """``[(code, label)]`` of a coded field (``None``: free values)."""
    if fdef.codelist:
        from layers.codelists import codelist

        return [(e.code, e.label_tr) for e in codelist(fdef.codelist)]
    if fdef.enum is not None:
        return [(str(v), str(v)) for v in fdef.enum]
    return None


# -- QGIS style -------------------------------------------------------------------------------
def qml_style(layer: LayerDefinition) -> str:
    """The layer's QGIS style (fields and forms): code-list fields as value maps.

    Examples
    --------
    >>> from layers.registry import registry
    >>> qml = qml_style(registry.get("bina"))
    >>> '<editWidget type="ValueMap">' in qml and 'name="Konut + Ticaret"' in qml
    True
    """
    fields = template_fields(layer)
    out = ["<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>",
           '<qgis version="3.22.0" styleCategories="Fields|Forms">', "  <fieldConfiguration>"]
    for fdef in fields:
        values = allowed_values(fdef)
        out.append(f'    <field name={quoteattr(fdef.name)} configurationFlags="None">')
        if values is not None:
            out += ['      <editWidget type="ValueMap">', "        <config>",
                    '          <Option type="Map">', '            <Option type="List" name="map">']
            for code, label in values:
                shown = code if label == code else f"{code} ({label})"
                out.append(f'              <Option type="Map"><Option type="QString" '
                           f'name={quoteattr(shown)} value={quoteattr(code)}/></Option>')
            out += ["            </Option>", "          </Option>", "        </config>",
                    "      </editWidget>"]
        else:
            widget = {"boolean": "CheckBox", "date": "DateTime"}.get(fdef.type, "TextEdit")
            out += [f'      <editWidget type="{widget}">', "        <config>",
                    '          <Option/>', "        </config>", "      </editWidget>"]
        out.append("    </field>")
    out += ["  </fieldConfiguration>", "  <aliases>"]
    for index, fdef in enumerate(fields):
        out.append(f'    <alias field={quoteattr(fdef.name)} index="{index}" '
                   f'name={quoteattr(fdef.title.tr)}/>')
    out += ["  </aliases>", "  <constraints>"]
    for fdef in fields:
        required = 1 if fdef.required else 0
        unique = 2 if fdef.unique else 0
        out.append(f'    <constraint field={quoteattr(fdef.name)} '
                   f'constraints="{required | unique}" notnull_strength="{required}" '
                   f'unique_strength="{1 if unique else 0}" exp_strength="0"/>')
    out += ["  </constraints>", "</qgis>"]
    return "\n".join(out) + "\n"


# -- GeoPackage --------------------------------------------------------------------------------
_PANDAS_TYPES = {"string": "object", "text": "object", "integer": "int64",
                 "decimal": "float64", "boolean": "bool", "date": "object",
                 "datetime": "datetime64[ms]"}


def geopackage_template(layer: LayerDefinition) -> bytes:
    """An empty GeoPackage with the layer's fields, geometry type and CRS, and its QGIS style
    (:func:`qml_style`) as the default style of the layer."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    fields = template_fields(layer)
    frame = gpd.GeoDataFrame(
        {f.name: pd.Series([], dtype=_PANDAS_TYPES.get(f.type, "object")) for f in fields},
        geometry=gpd.GeoSeries([], crs=int(layer.srid)), crs=int(layer.srid))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer.code}.gpkg"
        pyogrio.write_dataframe(frame, path, layer=layer.code, driver="GPKG",
                                geometry_type=str(layer.geometry_type))
        _store_default_style(path, layer)
        return path.read_bytes()


def _store_default_style(path: Path, layer: LayerDefinition) -> None:
    """Write QGIS's ``layer_styles`` table (the schema QGIS creates) with the layer's style
    as its default, registered in ``gpkg_contents`` as QGIS registers it."""
    with sqlite3.connect(path) as db:
        db.execute("""CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
            f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
            styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
            description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT
            (strftime('%Y-%m-%dT%H:%M:%fZ','now')))""")
        db.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
                   "VALUES ('layer_styles', 'attributes', 'layer_styles')")
        geometry = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE "
                              "table_name = ?", [layer.code]).fetchone()
        db.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                   "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                   "description, owner) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'KentCBS')",
                   [layer.code, geometry[0] if geometry else "geom", layer.code,
                    qml_style(layer), f"KentCBS {layer.code} v{layer.version}"])


# -- XLSX ----------------------------------------------------------------------------------------
def geometry_columns(layer: LayerDefinition) -> list[str]:
    """The template's geometry columns: longitude and latitude for points, WKT otherwise."""
    return [LON_COLUMN, LAT_COLUMN] if layer.geometry_type == "Point" else [WKT_COLUMN]


def _rules(fdef: FieldDefinition) -> str:
    parts = []
    if fdef.min is not None or fdef.max is not None:
        low = "" if fdef.min is None else f"{fdef.min:g}"
        high = "" if fdef.max is None else f"{fdef.max:g}"
        parts.append(f"{low}..{high}")
    if fdef.max_length:
        parts.append(f"≤ {fdef.max_length} karakter / characters")
    if fdef.pattern:
        parts.append(f"desen / pattern {fdef.pattern}")
    if fdef.unique:
        parts.append("tekil / unique")
    if fdef.unit:
        parts.append(fdef.unit)
    return "; ".join(parts)


def xlsx_template(layer: LayerDefinition) -> bytes:
    """The layer's Excel template (openpyxl): sheet ``veri`` to fill (code lists as
    drop-downs, integer ranges checked), sheet ``alanlar`` describing each field, and the
    code lists on a hidden sheet the drop-downs read."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    fields = template_fields(layer)
    book = Workbook()
    data: Any = book.active
    data.title = DATA_SHEET
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    about = book.create_sheet(FIELDS_SHEET)
    header = [f.name for f in fields] + geometry_columns(layer)
    data.append(header)
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    coded = 0  # code lists written on the hidden sheet, one column each
    for index, fdef in enumerate(fields, start=1):
        cell = data.cell(row=1, column=index)
        cell.font = bold
        if fdef.required:
            cell.fill = required_fill
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = max(12, len(fdef.name) + 2)
        cells = f"{letter}2:{letter}{XLSX_ROWS + 1}"
        values = allowed_values(fdef)
        check: DataValidation | None = None
        if values is not None:
            coded += 1
            column = get_column_letter(coded)
            lists[f"{column}1"] = fdef.name
            for row, (code, _label) in enumerate(values, start=2):
                lists[f"{column}{row}"] = code
            check = DataValidation(
                type="list", allow_blank=not fdef.required,
                formula1=f"{quote_sheetname(LISTS_SHEET)}!${column}$2:${column}$"
                         f"{len(values) + 1}")
            check.error = "Kod listesinden bir değer seçin. / Choose a value of the code list."
        elif fdef.type == "integer":
            low = -2147483648 if fdef.min is None else int(fdef.min)
            high = 2147483647 if fdef.max is None else int(fdef.max)
            check = DataValidation(type="whole", operator="between", formula1=str(low),
                                   formula2=str(high), allow_blank=not fdef.required)
            check.error = f"{low}..{high} arası tam sayı. / A whole number in {low}..{high}."
        if check is not None:
            check.showErrorMessage = True
            check.errorTitle = fdef.title.tr
            check.prompt = f"{fdef.title.tr} / {fdef.title.en}"
            check.showInputMessage = True
            data.add_data_validation(check)
            check.add(cells)
    for index in range(len(fields) + 1, len(header) + 1):
        data.cell(row=1, column=index).font = bold
        data.column_dimensions[get_column_letter(index)].width = 14
    data.freeze_panes = "A2"
    about.append(["alan / field", "başlık", "title", "tür / type", "zorunlu / required",
                  "kod listesi / code list", "kurallar / rules", "açıklama", "description",
                  "değerler / values"])
    for fdef in fields:
        values = allowed_values(fdef)
        about.append([fdef.name, fdef.title.tr, fdef.title.en, fdef.type,
                      "evet / yes" if fdef.required else "", fdef.codelist or
                      ("enum" if fdef.enum is not None else ""), _rules(fdef),
                      fdef.description.tr, fdef.description.en,
                      ", ".join(code for code, _l in values[:60]) if values else ""])
    for name in geometry_columns(layer):
        text = {LON_COLUMN: ("Boylam (WGS 84, derece)", "Longitude (WGS 84, degrees)"),
                LAT_COLUMN: ("Enlem (WGS 84, derece)", "Latitude (WGS 84, degrees)"),
                WKT_COLUMN: (f"Geometri, WKT ({layer.geometry_type}, EPSG:{layer.srid})",
                             f"Geometry as WKT ({layer.geometry_type}, EPSG:{layer.srid})")}[name]
        about.append([name, text[0], text[1], "geometri / geometry", "evet / yes"])
    for cell in about[1]:
        cell.font = bold
    for letter, width in zip("ABCDEFGHIJ", (22, 26, 26, 10, 14, 18, 30, 40, 40, 40),
                             strict=True):
        about.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
