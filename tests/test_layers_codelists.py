"""Code lists are data: loaded from layers/codelists/ into layers_codelistentry by migrate."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from layers.codelists import codelist, codelist_names, codes, load_codelists
from layers.errors import UnknownCodeListError
from layers.registry import registry

pytestmark = pytest.mark.django_db


def test_migrate_loaded_the_code_lists() -> None:
    assert [entry.code for entry in codelist("yol_tipi")] == [
        "Cadde", "Sokak", "Bulvar", "Küme Evler", "Meydan", "Yol"]
    lamps = codelist("aydinlatma_lamba_tipi")
    assert {"LED", "Sodyum", "Metal Halide"} <= {entry.code for entry in lamps}
    sodium = next(entry for entry in lamps if entry.code == "Sodyum")
    assert (sodium.label_tr, sodium.label_en) == ("Yüksek Basınçlı Sodyum", "High-pressure sodium")
    assert "Park" in codes("yesil_alan_tur")
    assert "Konut" in codes("bina_kullanim")


def test_neighbourhood_names_are_the_municipality_s() -> None:
    names = codes("mahalle")
    assert len(names) >= 10
    # Real names with Turkish letters, not slugs.
    assert any(set(name) & set("çğıöşüİ") for name in names)


def test_every_code_list_a_layer_uses_exists_and_is_loaded() -> None:
    used = {item.codelist for layer in registry.all() for item in layer.fields if item.codelist}
    assert used <= codelist_names()
    for name in used - {"bt_varlik_kategori", "bt_varlik_durum", "ag_ortam", "ag_durum"}:
        assert codelist(name), name


def test_reload_removes_retired_codes_and_sync_reloads() -> None:
    from layers.models import CodeListEntry

    CodeListEntry.objects.create(list_name="yol_tipi", code="Patika", label_tr="Patika",
                                 label_en="Path")
    assert "Patika" in codes("yol_tipi")
    counts = load_codelists(names=["yol_tipi"])
    assert counts == {"yol_tipi": 6}
    assert "Patika" not in codes("yol_tipi")
    CodeListEntry.objects.filter(list_name="yesil_alan_tur").delete()
    call_command("layers", "sync", "yol")
    assert "Park" in codes("yesil_alan_tur")


def test_unknown_code_list_is_a_typed_error() -> None:
    with pytest.raises(UnknownCodeListError):
        codelist("no_such_list")


def test_choice_backed_lists_follow_gis_core_choices() -> None:
    from gis_core import choices

    assert codes("bt_varlik_kategori") == set(choices.AssetCategoryChoices.values)
    assert codes("bt_varlik_durum") == set(choices.AssetStatusChoices.values)
    assert codes("ag_ortam") == set(choices.LinkMediumChoices.values)
    scrapped = next(e for e in codelist("bt_varlik_durum") if e.code == "scrapped")
    assert (scrapped.label_tr, scrapped.label_en) == ("Hurda", "Scrapped")


@pytest.mark.parametrize("profile", ["odunpazari", "nowhere"])
def test_all_lists_at_once_are_the_lists_one_by_one(settings, profile: str) -> None:
    """``all_codelists`` (one query, for the map page) gives what ``codelist`` gives for every
    list: the neighbourhood list from the district's official names, and for a municipality
    the national registry does not know, from the stored entries."""
    from layers.codelists import all_codelists

    settings.KENTCBS_PROFILE = profile
    together = all_codelists()
    assert set(together) == set(codelist_names())
    for name in codelist_names():
        one = [(e.code, e.label_tr, e.label_en) for e in codelist(name)]
        assert [(e.code, e.label_tr, e.label_en) for e in together[name]] == one, name
    neighbourhoods = [item.code for item in together["mahalle"]]
    if profile == "odunpazari":
        assert len(neighbourhoods) == 85 and "Arifiye" in neighbourhoods
    else:
        assert neighbourhoods == [e.code for e in codelist("mahalle")]
