"""The schema of a layer definition (a CBS layer's data-entry standard).

A definition is one YAML file (``layers/definitions/<code>.yaml`` or
``modules/<app>/layer_definitions/<code>.yaml``) validated by
:class:`LayerDefinition`. Nothing outside ``layers/`` imports this module:
the rest of the code asks ``layers.registry.registry`` for definitions and
reads their attributes.

Only structure is checked here; cross-references that need the rest of the
system (code lists, departments, backing models, key fields) are checked by
the registry and by the system checks (``layers.E00x``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]
FieldType = Literal["string", "text", "integer", "decimal", "boolean", "date", "datetime"]
BackingKind = Literal["table", "model"]

#: Columns every registry-managed table has; a field may not use these names.
SYSTEM_COLUMNS = frozenset({"id", "geom", "batch_id", "created_at", "updated_at"})
NUMERIC_TYPES = frozenset({"integer", "decimal"})
POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
LINE_TYPES = frozenset({"LineString", "MultiLineString"})

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Model):
    """A text in Turkish (``tr``, shown first) and English (``en``)."""

    tr: str
    en: str

    def text(self, lang: str | None = None) -> str:
        """The English text when ``lang`` (default: Django's active language) is
        English, else the Turkish one."""
        if lang is None:
            from django.utils.translation import get_language

            lang = get_language() or "tr"
        return self.en if lang.startswith("en") else self.tr


def _empty_text() -> LocalizedText:
    return LocalizedText(tr="", en="")


class FieldDefinition(_Model):
    """One attribute of a layer.

    ``source`` is used by model-backed layers only: the model field path the
    column comes from (``name``, ``neighbourhood.name``); it defaults to
    ``name``. ``default`` lets a new required field be added to an existing
    table (compatible change).
    """

    name: Identifier
    type: FieldType
    title: LocalizedText
    description: LocalizedText = Field(default_factory=_empty_text)
    required: bool = False
    unique: bool = False
    codelist: Code | None = None
    enum: list[str | int] | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: Annotated[int, Field(gt=0, le=10000)] | None = None
    unit: str | None = None
    personal: bool = False
    default: str | int | float | bool | None = None
    source: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
    #: The value is computed by KentCBS (e.g. an area); uploads may leave it empty.
    computed: bool = False

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("enum")
    @classmethod
    def _enum_not_empty(cls, value: list[str | int] | None) -> list[str | int] | None:
        if value is not None:
            if not value:
                raise ValueError("an enum needs at least one value")
            if len(set(value)) != len(value):
                raise ValueError("enum values repeat")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldDefinition:
        if self.codelist and self.enum:
            raise ValueError("use either codelist or enum, not both")
        if (self.min is not None or self.max is not None) and self.type not in NUMERIC_TYPES:
            raise ValueError(f"min/max apply to integer and decimal fields, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.max_length is not None and self.type != "string":
            raise ValueError("max_length applies to string fields only")
        if self.pattern is not None and self.type not in {"string", "text"}:
            raise ValueError("pattern applies to string and text fields only")
        if self.enum is not None:
            want = int if self.type == "integer" else str
            wrong = [v for v in self.enum if not isinstance(v, want)]
            if wrong or self.type not in {"string", "text", "integer"}:
                raise ValueError(f"enum values must be of the field's type ({self.type})")
        return self

    @property
    def source_path(self) -> str:
        """The model field path of a model-backed layer's column."""
        return self.source or self.name


class GeometryRules(_Model):
    """Rules every geometry of the layer must satisfy (checked by the ETL).

    ``min_area`` is in square metres, ``min_length`` and ``snap_tolerance`` in
    metres (the storage CRS is metric).
    """

    valid: bool = True
    not_empty: bool = True
    within_municipality: bool = False
    min_area: Annotated[float, Field(gt=0)] | None = None
    min_length: Annotated[float, Field(gt=0)] | None = None
    no_overlap: bool = False
    snap_tolerance: Annotated[float, Field(ge=0)] | None = None


class ReadAccess(_Model):
    public: bool = False
    departments: list[Code] = Field(default_factory=list)
    roles: list[Code] = Field(default_factory=list)


class EditAccess(_Model):
    departments: list[Code] = Field(default_factory=list)
    roles: list[Code] = Field(default_factory=list)


class PersonalAccess(_Model):
    departments: list[Code] = Field(default_factory=list)
    roles: list[Code] = Field(default_factory=list)


class LayerAccess(_Model):
    """Who reads, edits and sees personal fields; ``rows`` limits which features a reader sees.

    ``rows`` (model-backed layers only) is the dotted path of the module selector that
    decides row visibility for its own pages, ``selector(*, user) -> QuerySet`` of the
    backing model (e.g. ``modules.helpdesk.selectors.visible_tickets``). Every path that
    serves the layer's features (items, single items, tiles, HTML pages) keeps only the
    rows whose id is in that queryset, so a module's pages and its layer agree.
    """

    read: ReadAccess = Field(default_factory=ReadAccess)
    edit: EditAccess = Field(default_factory=EditAccess)
    personal: PersonalAccess = Field(default_factory=PersonalAccess)
    rows: str | None = Field(default=None,
                             pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")


class StyleRule(_Model):
    """A style override for the features whose ``field`` equals ``value``.

    Rules apply in order over the layer style (a later rule wins); each rule is
    also a legend entry, labelled from the field's code list when it has one.
    """

    field: str
    value: str
    color: HexColor | None = None
    fill_color: HexColor | None = None
    weight: Annotated[float, Field(ge=0, le=50)] | None = None
    #: SVG/canvas dash pattern, e.g. ``"6 4"``.
    dash_array: Annotated[str, Field(pattern=r"^[0-9]{1,3}( [0-9]{1,3}){1,5}$")] | None = None


class LayerStyle(_Model):
    """Default style for the map and the legend (Leaflet path options)."""

    color: HexColor = "#3388ff"
    fill_color: HexColor | None = None
    weight: Annotated[float, Field(ge=0, le=50)] = 2
    opacity: Annotated[float, Field(ge=0, le=1)] = 1.0
    fill_opacity: Annotated[float, Field(ge=0, le=1)] = 0.2
    radius: Annotated[float, Field(gt=0, le=100)] = 6
    min_zoom: Annotated[int, Field(ge=0, le=24)] | None = None
    #: The field whose value labels each feature on the map (a street's name ...).
    label: Identifier | None = None
    rules: list[StyleRule] = Field(default_factory=list)


class LayerBacking(_Model):
    """Where the features live.

    ``table``: a table the registry creates and evolves (``cbs.<code>``).
    ``model``: a core Django model; the registry creates the view
    ``cbs.v_<code>`` over its table. ``geometry_source`` names the model's
    geometry field.
    """

    kind: BackingKind
    table: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
    model: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_.]*\.[A-Z][A-Za-z0-9]*$")
    geometry_source: str | None = None


class LayerDefinition(_Model):
    """A CBS layer's standard: identity, fields, rules, access, style and storage.

    Examples
    --------
    >>> from layers.registry import registry  # doctest: +SKIP
    >>> yol = registry.get("yol")  # doctest: +SKIP
    >>> yol.geometry_type, yol.backing.table  # doctest: +SKIP
    ('MultiLineString', 'cbs.yol')
    """

    code: Code
    version: Annotated[int, Field(ge=1)]
    title: LocalizedText
    description: LocalizedText = Field(default_factory=_empty_text)
    theme: Code
    keywords: list[str] = Field(default_factory=list)
    geometry_type: GeometryType
    srid: int = Field(default=None, validate_default=True)
    fields: list[FieldDefinition]
    geometry_rules: GeometryRules = Field(default_factory=GeometryRules)
    key: list[Identifier] = Field(min_length=1)
    owner: Code
    access: LayerAccess = Field(default_factory=LayerAccess)
    personal_data: bool = False
    style: LayerStyle = Field(default_factory=LayerStyle)
    backing: LayerBacking
    geometry_column: Identifier = "geom"
    id_column: Identifier = "id"

    @field_validator("srid", mode="before")
    @classmethod
    def _resolve_srid(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            context = info.context or {}
            if context.get("default_srid"):
                return context["default_srid"]
            from django.conf import settings

            return settings.KENTCBS_SRID
        return value

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, value: list[FieldDefinition]) -> list[FieldDefinition]:
        seen: set[str] = set()
        for item in value:
            if item.name in seen:
                raise ValueError(f"field name '{item.name}' is used twice")
            seen.add(item.name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LayerDefinition:
        backing = self.backing
        if backing.kind == "model":
            if not backing.model:
                raise ValueError("backing.model is required when backing.kind is 'model'")
            if backing.table is None:
                object.__setattr__(self, "backing", backing.model_copy(
                    update={"table": f"cbs.v_{self.code}"}))
        else:
            if backing.model:
                raise ValueError("backing.model is only for backing.kind 'model'")
            if backing.table is None:
                object.__setattr__(self, "backing", backing.model_copy(
                    update={"table": f"cbs.{self.code}"}))
            reserved = sorted({f.name for f in self.fields} & SYSTEM_COLUMNS
                              | {f.name for f in self.fields} & {self.geometry_column})
            if reserved:
                raise ValueError(f"field names {reserved} are reserved for system columns")
        if self.access.rows is not None and backing.kind != "model":
            raise ValueError("access.rows applies to model-backed layers only")
        if any(f.personal for f in self.fields) and not self.personal_data:
            raise ValueError("a field is marked personal: set personal_data: true")
        if self.style.label is not None and self.style.label not in {f.name for f in self.fields}:
            raise ValueError(f"style.label {self.style.label!r} is not a field of the layer")
        rules = self.geometry_rules
        if rules.min_area is not None and self.geometry_type not in POLYGON_TYPES:
            raise ValueError("geometry_rules.min_area applies to polygon layers only")
        if rules.min_length is not None and self.geometry_type not in LINE_TYPES:
            raise ValueError("geometry_rules.min_length applies to line layers only")
        return self

    # -- helpers used by the rest of KentCBS ------------------------------
    def field(self, name: str) -> FieldDefinition:
        """Return the field called ``name`` (``KeyError`` if there is none)."""
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [item.name for item in self.fields]

    @property
    def personal_fields(self) -> list[str]:
        """Names of fields only ``access.personal`` may see."""
        return [item.name for item in self.fields if item.personal]

    @property
    def public_fields(self) -> list[str]:
        """Names of fields every reader of the layer may see."""
        return [item.name for item in self.fields if not item.personal]

    @property
    def is_model_backed(self) -> bool:
        return self.backing.kind == "model"

    @property
    def table_schema(self) -> str:
        """Schema of ``backing.table`` (``cbs``)."""
        return str(self.backing.table).split(".", 1)[0]

    @property
    def table_name(self) -> str:
        """Unqualified name of ``backing.table``."""
        return str(self.backing.table).split(".", 1)[1]

    def as_json(self) -> dict[str, Any]:
        """The definition as plain JSON-compatible data (as stored in layer state)."""
        return self.model_dump(mode="json")

    def definition_hash(self) -> str:
        """SHA-256 of the canonical JSON form; changes whenever the definition does."""
        text = json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()
