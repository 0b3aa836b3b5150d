"""The layer registry: shipped definitions load, broken ones fail with file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.errors import LayerDefinitionError, UnknownLayerError
from layers.registry import LayerRegistry, registry

SHIPPED = ["ag_baglanti", "aydinlatma", "bina", "bina_hizmet", "bt_varlik", "mahalle",
           "numarataj", "oda", "yesil_alan", "yol"]


def test_every_shipped_definition_loads() -> None:
    registry.reload()
    assert registry.problems() == []
    assert set(SHIPPED) <= set(registry.codes())
    for layer in registry.all():
        assert layer.title.tr and layer.title.en
        assert layer.description.tr and layer.description.en
        assert layer.srid in (5253, 5254)
        assert all(name in layer.field_names for name in layer.key)
        assert layer.backing.table and layer.backing.table.startswith("cbs.")


def test_unknown_layer_is_a_typed_error() -> None:
    with pytest.raises(UnknownLayerError) as info:
        registry.get("no_such_layer")
    assert info.value.code == "UNKNOWN_LAYER"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
code: test_park
version: 1
title: {tr: Park, en: Park}
theme: arazi_kullanimi
geometry_type: MultiPolygon
fields:
  - {name: kod, type: string, required: true, title: {tr: Kod, en: Code}}
  - {name: alan, type: decimal, min: 0, max: 1000, title: {tr: Alan, en: Area}}
key: [kod]
owner: park_bahceler
backing: {kind: table}
"""


def test_a_valid_definition_gets_defaults(tmp_path: Path) -> None:
    _write(tmp_path, "test_park.yaml", GOOD)
    layer = LayerRegistry(paths=[tmp_path], include_modules=False, default_srid=5253).get(
        "test_park")
    assert layer.srid == 5253
    assert layer.backing.table == "cbs.test_park"
    assert layer.geometry_column == "geom" and layer.id_column == "id"
    assert layer.access.read.public is False
    assert layer.geometry_rules.valid and layer.geometry_rules.not_empty


@pytest.mark.parametrize(("text", "location", "problem", "check_id"), [
    (GOOD.replace("max: 1000", "max: wide"), "fields[alan].max", "valid number", "layers.E001"),
    (GOOD.replace("type: decimal", "type: float"), "fields[alan].type", "'string'",
     "layers.E001"),
    (GOOD.replace("geometry_type: MultiPolygon", "geometry_type: Polygn"), "geometry_type",
     "'Point'", "layers.E001"),
    (GOOD.replace("min: 0, max: 1000", "min: 10, max: 1"), "fields[alan]",
     "min (10.0) is greater than max (1.0)", "layers.E001"),
    (GOOD.replace("owner: park_bahceler\n", ""), "owner", "Field required", "layers.E001"),
    (GOOD.replace("key: [kod]", "key: [kodu]"), "key[0]", "key field 'kodu'", "layers.E004"),
    (GOOD.replace("title: {tr: Alan, en: Area}", "codelist: agac_turu, title: {tr: A, en: A}"),
     "fields[alan].codelist", "unknown code list 'agac_turu'", "layers.E003"),
    (GOOD.replace("theme: arazi_kullanimi", "theme: parklar"), "theme",
     "unknown TUCBS theme 'parklar'", "layers.E009"),
    (GOOD.replace("code: test_park", "code: test_bahce"), "code",
     "does not match the file name", "layers.E005"),
    (GOOD.replace("backing: {kind: table}", "backing: {kind: model}"), "(file)",
     "backing.model is required", "layers.E001"),
    (GOOD + "  extra: 1\n", "line 13", "not valid YAML", "layers.E001"),
    (GOOD + "access: {rows: modules.x.selectors.visible_rows}\n", "(file)",
     "access.rows applies to model-backed layers only", "layers.E001"),
])
def test_a_broken_definition_names_the_file_and_the_field(
        tmp_path: Path, text: str, location: str, problem: str, check_id: str) -> None:
    path = _write(tmp_path, "test_park.yaml", text)
    broken = LayerRegistry(paths=[tmp_path], include_modules=False)
    problems = broken.problems()
    assert problems, text
    first = problems[0]
    assert (first.check_id, first.location) == (check_id, location), first
    assert problem in first.message
    with pytest.raises(LayerDefinitionError) as info:
        broken.get("test_park")
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and f"field '{location}'" in message
    assert info.value.code == "LAYER_DEFINITION_INVALID"


def test_a_code_defined_twice_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a", "test_park.yaml", GOOD)
    _write(tmp_path / "b", "test_park.yaml", GOOD)
    twice = LayerRegistry(paths=[tmp_path / "a", tmp_path / "b"], include_modules=False)
    [problem] = twice.problems()
    assert problem.check_id == "layers.E005"
    assert "already defined" in problem.message


def test_system_check_reports_every_problem(tmp_path: Path, monkeypatch) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    import layers.registry

    _write(tmp_path, "test_park.yaml", GOOD.replace("max: 1000", "max: wide"))
    _write(tmp_path, "test_yol.yaml", GOOD.replace("code: test_park", "code: test_yol")
           .replace("key: [kod]", "key: [yok]"))
    monkeypatch.setattr(layers.registry, "registry",
                        LayerRegistry(paths=[tmp_path], include_modules=False))
    with pytest.raises(SystemCheckError) as info:
        call_command("check", "--tag", "layers")
    text = str(info.value)
    assert "(layers.E001)" in text and "field 'fields[alan].max'" in text
    assert "(layers.E004)" in text and "test_yol.yaml, field 'key[0]'" in text


def test_kentcbs_check_passes_on_the_shipped_definitions() -> None:
    from tests.conftest import kentcbs

    result = kentcbs("check", "--tag", "layers")
    assert result.returncode == 0, result.stderr
    assert "layers.E0" not in result.stdout + result.stderr


def test_srid_follows_the_municipality_profile() -> None:
    from django.conf import settings

    assert registry.get("yol").srid == settings.KENTCBS_SRID


def test_build_definition_from_data() -> None:
    import yaml

    from layers.registry import build_definition

    layer = build_definition(yaml.safe_load(GOOD), default_srid=5254)
    assert layer.code == "test_park" and layer.srid == 5254
    with pytest.raises(LayerDefinitionError, match=r"field 'fields\[alan\]\.max'"):
        build_definition(yaml.safe_load(GOOD.replace("max: 1000", "max: wide")))


def test_a_broken_definition_stops_kentcbs_with_one_line(tmp_path: Path) -> None:
    from tests.conftest import kentcbs

    path = _write(tmp_path, "test_park.yaml", GOOD.replace("max: 1000", "max: wide"))
    env = {"KENTCBS_LAYER_DIRS": str(tmp_path)}
    result = kentcbs("layers", "list", env=env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "LAYER_DEFINITION_INVALID" in line
    assert f"{path}, field 'fields[alan].max'" in line
    checked = kentcbs("check", "--tag", "layers", env=env)
    assert checked.returncode != 0
    assert "(layers.E001)" in checked.stderr and "fields[alan].max" in checked.stderr


@pytest.mark.django_db
def test_unknown_department_role_and_model_field_are_reported(tmp_path: Path,
                                                              monkeypatch) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    import layers.registry

    broken = GOOD.replace("owner: park_bahceler", "owner: parklar\naccess: {edit: {roles: [sef]}}")
    _write(tmp_path, "test_park.yaml", broken)
    _write(tmp_path, "test_bina.yaml", """
code: test_bina
version: 1
title: {tr: Bina, en: Building}
theme: bina
geometry_type: MultiPolygon
fields:
  - {name: kod, type: string, source: code, title: {tr: Kod, en: Code}}
  - {name: ilce, type: string, source: neighbourhood.district, title: {tr: İlçe, en: District}}
key: [kod]
owner: bilgi_islem
backing: {kind: model, model: gis_core.Building, geometry_source: footprint}
""")
    monkeypatch.setattr(layers.registry, "registry",
                        LayerRegistry(paths=[tmp_path], include_modules=False))
    with pytest.raises(SystemCheckError) as info:
        call_command("check", "--tag", "layers")
    text = str(info.value)
    assert "(layers.E002)" in text and "field 'owner': unknown department 'parklar'" in text
    assert "(layers.E007)" in text and "unknown role 'sef'" in text
    assert "(layers.E006)" in text and "fields[ilce].source" in text
    assert "gis_core.Neighbourhood has no field 'district'" in text


def test_installed_modules_contribute_their_layer_definitions() -> None:
    from django.apps import apps

    registry.reload()
    expected = {}
    for config in apps.get_app_configs():
        if config.name.startswith("modules."):
            for path in sorted((Path(config.path) / "layer_definitions").glob("*.yaml")):
                expected[path.stem] = path
    for code, path in expected.items():
        assert code in registry.codes()
        assert registry.source(code) == str(path.relative_to(Path(__file__).parent.parent))


def test_the_efeler_profile_stores_layers_in_tm27() -> None:
    import json

    from tests.conftest import kentcbs

    result = kentcbs("layers", "show", "yol", "--format", "json",
                     env={"KENTCBS_PROFILE": "efeler"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["srid"] == 5253


def test_a_row_selector_that_cannot_be_imported_is_reported() -> None:
    """layers.E010: ``access.rows`` must name an importable callable."""
    import yaml

    from layers.registry import build_definition
    from layers.validation import rows_problems

    data = yaml.safe_load(GOOD)
    data["backing"] = {"kind": "model", "model": "helpdesk.Ticket", "geometry_source": "location"}
    data["access"] = {"rows": "modules.helpdesk.selectors.visible_tickets"}
    assert rows_problems(build_definition(data), "x.yaml") == []
    data["access"] = {"rows": "modules.helpdesk.selectors.no_such_selector"}
    [problem] = rows_problems(build_definition(data), "x.yaml")
    assert (problem.check_id, problem.location) == ("layers.E010", "access.rows")
    data["access"] = {"rows": "modules.helpdesk.selectors.annotations"}  # a __future__ flag
    [problem] = rows_problems(build_definition(data), "x.yaml")
    assert "is not callable" in problem.message
