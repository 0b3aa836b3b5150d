"""Registry-managed tables: created from a definition, evolved by compatible changes,
incompatible changes refused. Definitions live in a temporary folder; the tables are
created in the real PostGIS test database (DDL is transactional, so every test's
changes roll back with it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.db import DatabaseError, connection, transaction

from layers.errors import IncompatibleChangeError, VersionNotBumpedError
from layers.registry import LayerRegistry
from layers.services import plan_layer, sync_layer

pytestmark = pytest.mark.django_db

CODE = "test_agac"


def tree_layer(**changes: object) -> dict[str, object]:
    """A street-tree layer (v1), with ``changes`` applied on top."""
    data: dict[str, object] = {
        "code": CODE, "version": 1,
        "title": {"tr": "Sokak ağaçları", "en": "Street trees"},
        "theme": "arazi_ortusu", "geometry_type": "Point",
        "fields": [
            {"name": "agac_no", "type": "string", "required": True, "unique": True,
             "pattern": "^A[0-9]{4}$", "max_length": 5,
             "title": {"tr": "Ağaç no", "en": "Tree no"}},
            {"name": "tur", "type": "string", "required": True, "max_length": 40,
             "enum": ["Çınar", "Ihlamur"], "title": {"tr": "Tür", "en": "Species"}},
            {"name": "boy_m", "type": "decimal", "min": 0.5, "max": 30, "unit": "m",
             "title": {"tr": "Boy", "en": "Height"}},
            {"name": "dikim_yili", "type": "integer", "required": True, "min": 1950, "max": 2030,
             "title": {"tr": "Dikim yılı", "en": "Year planted"}},
            {"name": "mahalle_adi", "type": "string", "codelist": "mahalle",
             "title": {"tr": "Mahalle", "en": "Neighbourhood"}},
        ],
        "key": ["agac_no"], "owner": "park_bahceler", "backing": {"kind": "table"},
    }
    data.update(changes)
    return data


def load(tmp_path: Path, data: dict[str, object]):
    folder = tmp_path / f"v{data['version']}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / f"{CODE}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    registry = LayerRegistry(paths=[folder], include_modules=False)
    assert registry.problems() == []
    return registry.get(CODE)


def columns() -> dict[str, tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'cbs' AND table_name = %s", [CODE])
        return {name: (kind, nullable) for name, kind, nullable in cursor.fetchall()}


def insert(**values: object) -> None:
    values.setdefault("geom", "SRID=5254;POINT(420000 4400000)")
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO cbs.{CODE} ({names}) VALUES ({marks})",
                       list(values.values()))


def test_table_is_created_from_the_definition(tmp_path: Path) -> None:
    layer = load(tmp_path, tree_layer())
    plan = sync_layer(layer)
    assert plan.action == "create"
    cols = columns()
    assert cols["agac_no"] == ("character varying", "NO")
    assert cols["boy_m"] == ("numeric", "YES")
    assert cols["dikim_yili"] == ("bigint", "NO")
    assert {"id", "geom", "batch_id", "created_at", "updated_at"} <= set(cols)
    with connection.cursor() as cursor:
        # Not geometry_columns: its upper() gives 'POİNT' under the Turkish ICU collation.
        cursor.execute("SELECT postgis_typmod_type(atttypmod), postgis_typmod_srid(atttypmod) "
                       "FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'geom'",
                       [f"cbs.{CODE}"])
        assert cursor.fetchone() == ("Point", 5254)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'cbs' "
                       "AND tablename = %s", [CODE])
        indexes = " ".join(row[0] for row in cursor.fetchall())
        assert "USING gist (geom)" in indexes
        assert "USING brin (batch_id) WITH (autosummarize='on')" in indexes
        assert "(agac_no)" in indexes  # the key's unique index
        cursor.execute("SELECT version FROM layers_layerstate WHERE code = %s", [CODE])
        assert cursor.fetchone() == (1,)
    insert(agac_no="A0001", tur="Çınar", boy_m=12.5, dikim_yili=1990)
    for bad in ({"agac_no": "A0001"},                 # key must be unique
                {"agac_no": "B0002"},                 # pattern
                {"tur": "Meşe"},                      # enum
                {"boy_m": 31},                        # range
                {"dikim_yili": None},                 # required
                {"geom": "SRID=5254;LINESTRING(0 0, 1 1)"},  # geometry type
                {"geom": "SRID=4326;POINT(30 39)"}):  # SRID
        row = {"agac_no": "A0002", "tur": "Ihlamur", "dikim_yili": 2000, **bad}
        with pytest.raises(DatabaseError) as info:
            insert(**row)
        assert "violates" in str(info.value) or "does not match" in str(info.value), bad
    assert sync_layer(layer).action == "none"


def test_compatible_change_alters_the_table(tmp_path: Path) -> None:
    sync_layer(load(tmp_path, tree_layer()))
    insert(agac_no="A0001", tur="Çınar", boy_m=12.5, dikim_yili=1990)
    v1 = tree_layer()
    fields = v1["fields"]
    assert isinstance(fields, list)
    fields[1] = {**fields[1], "enum": ["Çınar", "Ihlamur", "Meşe"]}          # more values
    fields[2] = {**fields[2], "min": 0.1, "max": 60}                          # wider range
    fields[3] = {**fields[3], "required": False}                               # relaxed
    fields.append({"name": "govde_cevresi_cm", "type": "integer", "min": 1,   # new optional
                   "title": {"tr": "Gövde çevresi", "en": "Trunk girth"}})
    fields.append({"name": "sulama", "type": "boolean", "required": True, "default": False,
                   "title": {"tr": "Sulama", "en": "Watered"}})               # required+default
    fields[0] = {**fields[0], "max_length": 8}                                 # longer text
    v2 = load(tmp_path, {**v1, "version": 2, "fields": fields})
    plan = sync_layer(v2)
    assert plan.action == "alter"
    assert not plan.incompatible
    cols = columns()
    assert cols["dikim_yili"] == ("bigint", "YES")
    assert "govde_cevresi_cm" in cols and cols["sulama"] == ("boolean", "NO")
    insert(agac_no="A0002", tur="Meşe", boy_m=45, dikim_yili=None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sulama FROM cbs.{CODE} WHERE agac_no = 'A0001'")
        assert cursor.fetchone() == (False,)
        cursor.execute("SELECT version FROM layers_layerstate WHERE code = %s", [CODE])
        assert cursor.fetchone() == (2,)
    assert plan_layer(v2).action == "none"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda f: f.pop(2), "field 'boy_m' removed"),
    (lambda f: f.__setitem__(2, {**f[2], "type": "integer"}), "type decimal -> integer"),
    (lambda f: f.__setitem__(2, {**f[2], "max": 20}), "max 30.0 -> 20.0 (narrower range)"),
    (lambda f: f.__setitem__(1, {**f[1], "enum": ["Çınar"]}), "field 'tur': enum"),
    (lambda f: f.__setitem__(2, {**f[2], "required": True}), "'boy_m': becomes required"),
    (lambda f: f.append({"name": "yas", "type": "integer", "required": True,
                         "title": {"tr": "Yaş", "en": "Age"}}),
     "new required field 'yas' without a default"),
])
def test_incompatible_change_is_refused(tmp_path: Path, change, expected: str) -> None:
    sync_layer(load(tmp_path, tree_layer()))
    data = tree_layer(version=2)
    fields = data["fields"]
    change(fields)
    with pytest.raises(IncompatibleChangeError) as info:
        sync_layer(load(tmp_path, data))
    message = str(info.value)
    assert expected in message
    assert "LAYER_CHANGE_INCOMPATIBLE" in message
    assert f"new layer code (e.g. {CODE}_v2)" in message
    with connection.cursor() as cursor:  # nothing was changed
        cursor.execute("SELECT version FROM layers_layerstate WHERE code = %s", [CODE])
        assert cursor.fetchone() == (1,)
    assert "boy_m" in columns()


def test_geometry_type_change_is_refused(tmp_path: Path) -> None:
    sync_layer(load(tmp_path, tree_layer()))
    with pytest.raises(IncompatibleChangeError, match="geometry_type Point -> MultiPoint"):
        sync_layer(load(tmp_path, tree_layer(version=2, geometry_type="MultiPoint")))


def test_table_change_needs_a_version_bump(tmp_path: Path) -> None:
    sync_layer(load(tmp_path, tree_layer()))
    data = tree_layer()
    fields = data["fields"]
    assert isinstance(fields, list)
    fields.append({"name": "not", "type": "text", "title": {"tr": "Not", "en": "Note"}})
    with pytest.raises(VersionNotBumpedError, match="Increase 'version'"):
        sync_layer(load(tmp_path, data))
    # Titles, style or access alone need no new version and change no column.
    plan = sync_layer(load(tmp_path, tree_layer(title={"tr": "Ağaçlar", "en": "Trees"})))
    assert plan.action == "metadata"


def test_layers_command_diff_and_sync(tmp_path: Path, monkeypatch, capsys) -> None:
    from django.core.management import call_command

    import layers.management.commands.layers as command

    v1 = load(tmp_path, tree_layer())
    registry = LayerRegistry(paths=[], include_modules=False)
    monkeypatch.setattr(registry, "_layers", {CODE: v1})
    monkeypatch.setattr(registry, "_problems", [])
    monkeypatch.setattr(command, "registry", registry)
    call_command("layers", "diff", CODE)
    assert f"create table cbs.{CODE}" in capsys.readouterr().out
    call_command("layers", "sync", CODE)
    assert f"{CODE}: create cbs.{CODE} (v1)" in capsys.readouterr().out
    data = tree_layer(version=2)
    fields = data["fields"]
    assert isinstance(fields, list)
    fields.pop(2)
    fields.append({"name": "not", "type": "text", "title": {"tr": "Not", "en": "Note"}})
    monkeypatch.setattr(registry, "_layers", {CODE: load(tmp_path, data)})
    call_command("layers", "diff", CODE)
    out = capsys.readouterr().out
    assert f"{CODE}: v1 -> v2 (alter)" in out
    assert "REFUSED: field 'boy_m' removed" in out and "new field 'not' (text)" in out
    assert "LAYER_CHANGE_INCOMPATIBLE" in out
    with pytest.raises(IncompatibleChangeError):
        call_command("layers", "sync", CODE)
    call_command("layers", "show", CODE, "--format", "json")
    assert '"code": "test_agac"' in capsys.readouterr().out
