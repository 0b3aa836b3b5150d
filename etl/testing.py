"""Helpers for tests and benchmarks: layer definitions and their tables, made in code."""

from __future__ import annotations

from typing import Any

from django.db import connection


def layer_data(code: str = "etl_bina", **overrides: Any) -> dict[str, Any]:
    """The definition :func:`make_layer` builds, as data (a bench writes it to a YAML file
    in ``KENTCBS_LAYER_DIRS`` to run ``kentcbs ingest`` on it)."""
    data: dict[str, Any] = {
        "code": code, "version": 1, "theme": "yapilar",
        "title": {"tr": "Deneme binaları", "en": "Test buildings"},
        "geometry_type": "MultiPolygon",
        "fields": [
            {"name": "bina_no", "type": "string", "required": True, "unique": True,
             "pattern": "^B-[0-9]{1,8}$", "title": {"tr": "Bina no", "en": "Building no"}},
            {"name": "ad", "type": "string", "max_length": 100,
             "title": {"tr": "Ad", "en": "Name"}},
            {"name": "mahalle_adi", "type": "string",
             "enum": ["Yenidoğan", "Şirintepe", "Gökmeydan", "Akarbaşı"],
             "title": {"tr": "Mahalle", "en": "Neighbourhood"}},
            {"name": "kat_sayisi", "type": "integer", "min": 1, "max": 60,
             "title": {"tr": "Kat sayısı", "en": "Floors"}},
        ],
        "geometry_rules": {"valid": True, "not_empty": True, "min_area": 4.0,
                           "no_overlap": True},
        "key": ["bina_no"], "owner": "imar_sehircilik",
        "backing": {"kind": "table"},
    }
    data.update(overrides)
    return data


def make_layer(code: str = "etl_bina", **overrides: Any) -> Any:
    """A table-backed building layer definition (``cbs.<code>``) for tests and benches."""
    from layers.registry import build_definition

    return build_definition(layer_data(code, **overrides),
                            name=f"etl.testing.make_layer({code!r})")


def ensure_departments() -> None:
    """Restore the shipped departments (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    try:
        model = apps.get_model("gis_core", "Department")
    except LookupError:
        return
    if model.objects.exists():
        return
    shipped = importlib.import_module("gis_core.migrations.0003_departments")
    shipped.create(apps, None)


def create_layer_table(layer: Any) -> None:
    """(Re)create the layer's table with the registry's own DDL (``layers.ddl``); make sure
    the shipped departments exist."""
    from layers.ddl import create_table, history_table

    ensure_departments()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {layer.backing.table} CASCADE")
        cur.execute(f"DROP TABLE IF EXISTS {history_table(layer)}")
        for statement in create_table(layer):
            cur.execute(statement.as_string(cur.cursor.connection))


def layer_rows(layer: Any) -> list[tuple[Any, ...]]:
    """Every row of the layer (fields and geometry as EWKT), ordered by key, to compare states."""
    cols = ", ".join([*(f'"{f.name}"' for f in layer.fields),
                      f'ST_AsEWKT("{layer.geometry_column}")', "batch_id"])
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {layer.backing.table} "  # noqa: S608
                    f"ORDER BY {', '.join(layer.key)}")
        return list(cur.fetchall())
