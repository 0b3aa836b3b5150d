"""The mapping step's suggestions and the value normalisation (issue 18 §1, §2)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from etl.mapping import (
    CONFIDENT,
    CodeMatcher,
    alias_table,
    normalise_values,
    read_sample,
    save_mapping,
    saved_mapping,
    special_fields,
    suggest,
)
from etl.normalise import load_mapping
from etl.textnorm import expand_street_words, strip_place_suffix, turkish_lower
from layers.registry import registry

MAHALLE = ["Akarbaşı", "Emek", "Gökmeydan", "İstiklal", "Işıklar", "71 Evler"]
KULLANIM = ["Konut", "Ticaret", "Konut + Ticaret", "Kamu Hizmet", "Eğitim", "Diğer"]
CODES = {"mahalle": MAHALLE, "bina_kullanim": KULLANIM}


def building_sample() -> pd.DataFrame:
    return pd.DataFrame({
        "uavt_kodu": ["1000000001", "1000000002", "1000000003", "1000000004"],
        "mahalle": ["Akarbaşı Mahallesi", "EMEK MAH.", "İstiklal", "Işıklar Mh."],
        "KULLANIM_AMACI": ["Konut", "Karma", "Ticari", "Kamu"],
        "Kat": ["3", "4", "2", "5"],
        "yil": ["1985", "2001", "2010", "1999"],
        "Açıklama": ["köşe", "", "bahçeli", "yeni"],
    })


def test_text_normalisation_follows_turkish_rules() -> None:
    assert strip_place_suffix("Akarbaşı Mahallesi") == "Akarbaşı"
    assert strip_place_suffix("Emek Mah.") == strip_place_suffix("Emek MH") == "Emek"
    assert strip_place_suffix("Mahalle") == "Mahalle"  # nothing before it
    assert expand_street_words("Atatürk Cad. 1. Sok.") == "Atatürk Cadde 1. Sokak"
    assert expand_street_words("Gazi Blv") == "Gazi Bulvar"
    assert expand_street_words("Sokak") == "Sokak"  # whole words only
    assert turkish_lower("ISPARTA İLİ") == "ısparta ili"
    assert len(turkish_lower("İ")) == 1


def test_special_fields_of_the_layers() -> None:
    assert special_fields(registry.get("bina")) == {
        "@name": "bina_adi", "@mahalle": "mahalle_adi", "@uavt": "uavt_bina_kodu"}
    assert special_fields(registry.get("mahalle")) == {
        "@name": "ad", "@mahalle": "ad", "@uavt": "uavt_kodu"}
    assert special_fields(registry.get("yol"))["@name"] == "yol_adi"


def test_building_file_columns_by_name_and_content() -> None:
    sample = building_sample()
    found = suggest(list(sample.columns), sample, registry.get("bina"), codes=CODES)
    by_column = {c.column: c for c in found.columns}
    assert found.mapping(min_confidence=CONFIDENT) == {
        "uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
        "KULLANIM_AMACI": "kullanim", "Kat": "kat_sayisi", "yil": "yapim_yili"}
    assert by_column["Açıklama"].field is None
    assert not found.exact
    # the neighbourhood names match once "Mahallesi"/"Mah."/"Mh." is stripped (Turkish case)
    assert by_column["mahalle"].codelist_share == 1.0
    assert by_column["mahalle"].unmatched == {}
    # the use values: one in four is an entry; the others get an alias proposed
    use = by_column["KULLANIM_AMACI"]
    assert use.codelist_share == 0.25
    assert use.unmatched == {"Karma": "Konut + Ticaret", "Ticari": "Ticaret",
                             "Kamu": "Kamu Hizmet"}
    assert use.samples == ["Konut", "Karma", "Ticari", "Kamu"]
    assert by_column["uavt_kodu"].confidence >= 0.9  # name and content agree


def test_content_alone_finds_uavt_neighbourhood_floors_and_year() -> None:
    sample = building_sample().rename(columns={"uavt_kodu": "A", "mahalle": "B", "Kat": "C",
                                               "yil": "D"})
    found = suggest(list(sample.columns), sample, registry.get("bina"), codes=CODES)
    mapped = found.mapping()
    assert mapped["A"] == "uavt_bina_kodu"
    assert mapped["B"] == "mahalle_adi"
    assert mapped["C"] == "kat_sayisi"
    assert mapped["D"] == "yapim_yili"
    # content alone is not confident enough for --auto-map's floor counts
    assert "C" not in found.mapping(min_confidence=CONFIDENT)


def test_neighbourhood_file_name_column_is_the_neighbourhood_name() -> None:
    sample = pd.DataFrame({"name": ["Akarbaşı Mahallesi", "Emek Mahallesi", "Gökmeydan Mah."],
                           "uavt_code": ["123", "124", "125"]})
    found = suggest(list(sample.columns), sample, registry.get("mahalle"), codes=CODES)
    assert found.mapping(min_confidence=CONFIDENT)["name"] == "ad"
    assert found.columns[0].codelist_share == 1.0


def test_saved_mapping_wins_and_makes_the_file_exact() -> None:
    sample = building_sample()
    layer = registry.get("bina")
    saved = {"uavt_kodu": "uavt_bina_kodu", "mahalle": "mahalle_adi",
             "KULLANIM_AMACI": "kullanim", "Kat": "kat_sayisi", "yil": "yapim_yili",
             "Açıklama": ""}
    aliases = {"bina_kullanim": {"karma": "Konut + Ticaret", "ticari": "Ticaret",
                                 "kamu": "Kamu Hizmet"}}
    found = suggest(list(sample.columns), sample, layer, saved=saved, aliases=aliases,
                    codes=CODES)
    assert found.exact
    assert found.mapping() == {k: v for k, v in saved.items() if v}
    assert {c.column: c.codelist_share for c in found.columns}["KULLANIM_AMACI"] == 1.0
    # a saved mapping naming a field the layer no longer has is not trusted
    found = suggest(["x"], pd.DataFrame({"x": ["1"]}), layer, saved={"x": "gone"}, codes=CODES)
    assert found.columns[0].reason != "saved"


def test_exact_names_need_no_mapping() -> None:
    sample = pd.DataFrame({"UAVT_BINA_KODU": ["1000000001"], "Mahalle Adı": ["Emek"],
                           "kat_sayisi": ["2"], "kullanim": ["Konut"]})
    found = suggest(list(sample.columns), sample, registry.get("bina"), codes=CODES)
    assert found.exact
    assert all(c.confidence == 1.0 for c in found.columns)


def test_suggestion_yaml_is_a_mapping_file(tmp_path: Path) -> None:
    sample = building_sample()
    found = suggest(list(sample.columns), sample, registry.get("bina"), codes=CODES)
    path = tmp_path / "mapping.yaml"
    path.write_text(found.as_yaml(), encoding="utf-8")
    assert load_mapping(path) == found.mapping()
    assert "not matched: Açıklama" in found.as_yaml()


def test_code_matcher_keeps_turkish_letters_apart() -> None:
    matcher = CodeMatcher(["Çocuk Oyun Alanı", "Park"])
    assert matcher.match("PARK").code == "Park"
    assert matcher.match("çocuk oyun alanı").how == "normalised"
    # a missing Turkish letter is a typo the report points out, not a silent fix
    assert matcher.match("Cocuk Oyun Alani").code is None
    assert matcher.propose("Cocuk Oyun Alani", "yesil_alan_tur") == "Çocuk Oyun Alanı"


def test_normalise_values_reports_every_change() -> None:
    layer = registry.get("bina")
    frame = pd.DataFrame({"mahalle_adi": ["Akarbaşı Mahallesi", "Emek", "Yenidogan", None],
                          "kullanim": ["Karma", "KONUT", "Konut", "Villa"]},
                         index=[10, 11, 12, 13])
    aliases = {"bina_kullanim": {"karma": "Konut + Ticaret"}, "mahalle": {}}
    out, notes = normalise_values(frame, layer, aliases=aliases, codes=CODES)
    assert out["mahalle_adi"].tolist()[:3] == ["Akarbaşı", "Emek", "Yenidogan"]
    assert out["kullanim"].tolist() == ["Konut + Ticaret", "Konut", "Konut", "Villa"]
    assert frame["kullanim"].tolist()[0] == "Karma"  # the caller's frame is left as it was
    got = sorted(zip(notes["feature"], notes["code"], notes["field"], notes["value"],
                     notes["suggestion"], notes["severity"], strict=True))
    assert got == [
        (10, "VALUE_ALIAS", "kullanim", "Karma", "Konut + Ticaret", "warning"),
        (10, "VALUE_NORMALISED", "mahalle_adi", "Akarbaşı Mahallesi", "Akarbaşı", "warning"),
        (11, "VALUE_NORMALISED", "kullanim", "KONUT", "Konut", "warning"),
    ]


def test_normalise_street_names() -> None:
    layer = registry.get("numarataj")
    frame = pd.DataFrame({"sokak_adi": ["Atatürk Cad.", "1. Sok", "Gazi"],
                          "yol_tipi": ["Cad.", "SOKAK", "Bulvar"]})
    out, notes = normalise_values(frame, layer, aliases={},
                                  codes={"mahalle": MAHALLE,
                                         "yol_tipi": ["Cadde", "Sokak", "Bulvar"]})
    assert out["sokak_adi"].tolist() == ["Atatürk Cadde", "1. Sokak", "Gazi"]
    assert out["yol_tipi"].tolist() == ["Cadde", "Sokak", "Bulvar"]
    assert len(notes) == 4 and set(notes["code"]) == {"VALUE_NORMALISED"}


def test_read_sample_reads_the_first_rows_only(tmp_path: Path, settings) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    n = 2000
    path = tmp_path / "bina.gpkg"
    gpd.GeoDataFrame({"uavt_kodu": [f"{1000000000 + i}" for i in range(n)],
                      "kat": list(range(n))},
                     geometry=[shapely.Point(i, i) for i in range(n)], crs=5254).to_file(path)
    columns, sample = read_sample(path, rows=50)
    assert columns == ["uavt_kodu", "kat"]
    assert len(sample) == 50 and sample["uavt_kodu"].iloc[-1] == "1000000049"
    csv_path = tmp_path / "bina.csv"
    csv_path.write_text("uavt_kodu;mahalle;lon;lat\n" + "".join(
        f"{1000000000 + i};Emek Mah.;30.5;39.7\n" for i in range(n)), encoding="utf-8")
    columns, sample = read_sample(csv_path, rows=20)
    assert columns == ["uavt_kodu", "mahalle"] and len(sample) == 20


@pytest.mark.django_db
def test_saved_mapping_and_aliases_per_department() -> None:
    from django.core.exceptions import ValidationError

    from etl.models import ValueAlias

    save_mapping(department="imar_sehircilik", layer_code="bina", mapping={"mah": "mahalle_adi"})
    save_mapping(department="imar_sehircilik", layer_code="bina", mapping={"kat": "kat_sayisi"})
    assert saved_mapping(department="imar_sehircilik", layer_code="bina") == {
        "mah": "mahalle_adi", "kat": "kat_sayisi"}
    assert saved_mapping(department="fen_isleri", layer_code="bina") == {}

    ValueAlias.objects.create(codelist="bina_kullanim", alias="Ticari", code="Ticaret")
    ValueAlias.objects.create(codelist="bina_kullanim", alias="Kamu", code="Kamu Hizmet")
    ValueAlias.objects.create(codelist="bina_kullanim", alias="KAMU", code="Sosyal Tesis",
                              department="fen_isleri")
    assert alias_table("bina_kullanim") == {"ticari": "Ticaret", "kamu": "Kamu Hizmet"}
    assert alias_table("bina_kullanim", department="fen_isleri")["kamu"] == "Sosyal Tesis"
    with pytest.raises(ValidationError) as caught:
        ValueAlias(codelist="bina_kullanim", alias="Villa", code="Villa").full_clean()
    assert "code" in caught.value.message_dict
    with pytest.raises(ValidationError):
        ValueAlias(codelist="yok_boyle", alias="a", code="b").full_clean()


@pytest.mark.django_db(transaction=True)
def test_a_column_left_out_is_not_loaded_even_with_a_field_name(tmp_path: Path,
                                                                settings) -> None:
    import json

    from pyproj import Transformer

    from etl.services import ingest
    from etl.testing import ensure_departments
    from layers.codelists import codelist, load_codelists

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_codelists()
    ensure_departments()
    x0, y0 = Transformer.from_crs(4326, 5254, always_xy=True).transform(30.52, 39.77)
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"uavt": ["9900000001"], "mahalle_adi": [codelist("mahalle")[0].code],
                      "kat_sayisi": [2], "kullanim": ["Konut"], "bina_adi": ["Gizli ad"]},
                     geometry=[shapely.box(x0, y0, x0 + 20, y0 + 15)], crs=5254).to_file(path)
    batch = ingest(layer="bina", path=path, department="imar_sehircilik", dry_run=True,
                   mapping={"uavt": "uavt_bina_kodu", "bina_adi": ""})
    assert (batch.status, batch.count_loaded) == ("dry_run", 1)
    summary = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))["summary"]
    assert summary["unknown_columns"] == ["bina_adi"]
    assert summary["mapping"]["uavt"] == "uavt_bina_kodu"
