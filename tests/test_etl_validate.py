"""Every validation rule, on GeoDataFrames made in code (pure functions, no database)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from etl.messages import render
from etl.testing import make_layer
from etl.validate import FileState, closest, districts_with_neighbourhood, validate_chunk


def frame(rows: list[dict], start: int = 0) -> gpd.GeoDataFrame:
    geoms = [r.pop("geometry") for r in rows]
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=5254)
    out.index = pd.RangeIndex(start, start + len(out))
    return out


def row(i: int, **kw) -> dict:
    base = {"bina_no": f"B-{i}", "ad": f"Bina {i}", "mahalle_adi": "Yenidoğan",
            "kat_sayisi": "3", "geometry": shapely.box(i * 100, 0, i * 100 + 20, 20)}
    base.update(kw)
    return base


def codes(result) -> set[tuple[int, str, str]]:
    return {(p.feature, p.code, p.severity) for p in result.problems.itertuples()}


def test_attribute_rules():
    layer = make_layer(fields=[
        *make_layer().model_dump()["fields"],
        {"name": "tarih", "type": "date", "title": {"tr": "Tarih", "en": "Date"}},
        {"name": "vergi_no", "type": "string", "unique": True,
         "title": {"tr": "Vergi no", "en": "Tax no"}},
    ])
    rows = [
        row(0, tarih="2024-05-01", vergi_no="111"),
        row(1, bina_no=None),  # REQUIRED
        row(2, kat_sayisi="üç"),  # TYPE
        row(3, mahalle_adi="Yenidogan"),  # CODELIST with suggestion
        row(4, bina_no="X-4"),  # PATTERN
        row(5, kat_sayisi="61"),  # RANGE
        row(6, ad="x" * 101),  # MAX_LENGTH
        row(7, tarih="31.02.2024"),  # TYPE (no such date)
        row(8, vergi_no="222"),  # UNIQUE_IN_DB (stored under another key)
        row(9, vergi_no="333", kat_sayisi="4,0"),  # decimal comma is a valid integer
    ]

    def lookup(field: str, values: list) -> pd.DataFrame:
        stored = {"222": "B-999", "333": "B-9"}
        return pd.DataFrame([(v, stored[v]) for v in values if v in stored],
                            columns=["value", "bina_no"])

    result = validate_chunk(frame(rows), layer, FileState(), unique_lookup=lookup)
    found = codes(result)
    assert (1, "REQUIRED", "error") in found
    assert (2, "TYPE", "error") in found
    assert (3, "CODELIST", "error") in found
    assert (4, "PATTERN", "error") in found
    assert (5, "RANGE", "error") in found
    assert (6, "MAX_LENGTH", "error") in found
    assert (7, "TYPE", "error") in found
    assert (8, "UNIQUE_IN_DB", "error") in found
    assert not any(f in (0, 9) for f, _, _ in found)
    suggestion = result.problems.set_index("code").loc["CODELIST", "suggestion"]
    assert suggestion == "Yenidoğan"
    assert result.frame.loc[9, "kat_sayisi"] == 4
    assert list(result.rejected) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_unique_in_file_across_chunks():
    layer = make_layer()
    state = FileState()
    first = validate_chunk(frame([row(0), row(1)]), layer, state)
    again = frame([row(2, bina_no="B-0"), row(3), row(4, bina_no="B-3",
                                                    geometry=shapely.box(900, 0, 920, 20))],
                  start=2)
    second = validate_chunk(again, layer, state)
    assert first.problems.empty
    assert {(f, c) for f, c, _ in codes(second)} == {(2, "UNIQUE_IN_FILE"),
                                                      (4, "UNIQUE_IN_FILE")}


def test_geometry_rules():
    boundary = shapely.box(-50, -50, 1000, 1000)
    layer = make_layer(geometry_rules={"valid": True, "not_empty": True,
                                       "within_municipality": True, "min_area": 4,
                                       "no_overlap": True, "snap_tolerance": 0.1})
    bowtie = shapely.Polygon([(300, 0), (320, 20), (320, 0), (300, 20)])
    rows = [
        row(0),
        row(1, geometry=None),  # GEOM_EMPTY
        row(2, geometry=shapely.Point(200, 0)),  # GEOM_TYPE (mixed types in one file)
        row(3, geometry=bowtie),  # GEOM_INVALID
        row(4, geometry=shapely.box(5000, 0, 5020, 20)),  # OUTSIDE_MUNICIPALITY
        row(5, geometry=shapely.box(990, 0, 1010, 20)),  # partly outside: warning
        row(6, geometry=shapely.box(600, 0, 601, 1)),  # BELOW_MIN_AREA
        row(7, geometry=shapely.box(0, 0, 20, 20)),  # GEOM_DUPLICATE of 0
        row(8, geometry=shapely.box(10, 10, 30, 30)),  # GEOM_OVERLAP with 0
        row(9, geometry=shapely.box(-20, 0, 0, 20)),  # touches 0: fine
        row(10, geometry=shapely.MultiPolygon([shapely.box(1100 - 200, 0, 920, 20)])),
        row(11, geometry=shapely.GeometryCollection([shapely.Point(1, 1)])),  # GEOM_TYPE
    ]
    result = validate_chunk(frame(rows), layer, FileState(), boundary=boundary)
    found = codes(result)
    assert (1, "GEOM_EMPTY", "error") in found
    assert (2, "GEOM_TYPE", "error") in found
    assert (3, "GEOM_INVALID", "error") in found
    assert (4, "OUTSIDE_MUNICIPALITY", "error") in found
    assert (5, "OUTSIDE_MUNICIPALITY", "warning") in found
    assert (6, "BELOW_MIN_AREA", "error") in found
    assert (7, "GEOM_DUPLICATE", "error") in found
    assert (8, "GEOM_OVERLAP", "error") in found
    assert (11, "GEOM_TYPE", "error") in found
    assert not [x for x in found if x[0] in (0, 9, 10)], found
    invalid = result.problems[result.problems["code"] == "GEOM_INVALID"].iloc[0]
    assert invalid["detail"].startswith("Self-intersection")
    assert shapely.is_valid(result.repaired.loc[3])  # make_valid() offered
    overlap = result.problems[result.problems["code"] == "GEOM_OVERLAP"].iloc[0]
    assert (overlap["other"], overlap["other_key"]) == (0, "B-0")


def test_min_length_on_lines():
    layer = make_layer(geometry_type="LineString", geometry_rules={"min_length": 5})
    rows = [row(0, geometry=shapely.LineString([(0, 0), (10, 0)])),
            row(1, geometry=shapely.LineString([(0, 10), (2, 10)])),
            row(2, geometry=shapely.MultiLineString([[(0, 20), (10, 20)]]))]  # single part
    result = validate_chunk(frame(rows), layer, FileState())
    assert {(f, c) for f, c, _ in codes(result)} == {(1, "BELOW_MIN_LENGTH")}
    assert result.frame.geometry.iloc[2].geom_type == "LineString"


def test_closest_value_on_folded_text():
    assert closest("Yenidogan", ["Yenidoğan", "Yeşiltepe"]) == "Yenidoğan"
    assert closest("sirintepe", ["Şirintepe"]) == "Şirintepe"
    assert closest("GOKMEYDANI", ["Gökmeydan", "Akarbaşı"]) == "Gökmeydan"
    assert closest("zzz", ["Gökmeydan"]) == ""


def test_overlap_across_chunks_is_found():
    """A feature overlapping one of an earlier chunk is rejected; touching ones are not."""
    layer = make_layer()
    state = FileState()
    first = validate_chunk(frame([row(0), row(1), row(2)]), layer, state)
    assert "GEOM_OVERLAP" not in {c for _, c, _ in codes(first)}
    later = frame([row(3, geometry=shapely.box(110, 5, 130, 25)),  # overlaps feature 1
                   row(4, geometry=shapely.box(220, 0, 240, 20)),  # touches feature 2
                   row(5, geometry=shapely.box(5000, 0, 5020, 20))], start=3)
    second = validate_chunk(later, layer, state)
    overlaps = second.problems[second.problems["code"] == "GEOM_OVERLAP"]
    assert overlaps[["feature", "key", "other", "other_key"]].values.tolist() == [
        [3, "B-3", 1, "B-1"]]  # the other feature is in the earlier chunk
    third = validate_chunk(frame([row(6, geometry=shapely.box(112, 8, 128, 18))], start=6),
                           layer, state)  # inside 1 (and 3): named once
    assert third.problems["feature"].tolist() == [6]


def test_computed_area_is_filled_from_the_geometry():
    fields = [*make_layer().model_dump()["fields"],
              {"name": "alan_m2", "type": "decimal", "min": 0, "unit": "m2", "computed": True,
               "title": {"tr": "Alan", "en": "Area"}}]
    layer = make_layer(fields=fields)
    rows = [row(0, alan_m2="12"),  # the upload's value is replaced
            row(1, alan_m2="not a number"),  # and so not a TYPE error
            row(2, geometry=shapely.box(200, 0, 210.5, 10))]
    result = validate_chunk(frame(rows), layer, FileState())
    assert result.problems.empty
    assert result.frame["alan_m2"].tolist() == [400.0, 400.0, 105.0]


def test_duplicates_within_and_across_chunks_are_found_once():
    layer = make_layer()
    state = FileState()
    same = shapely.box(0, 0, 20, 20)
    first = validate_chunk(frame([row(0, geometry=same), row(1, geometry=shapely.box(20, 20, 0, 0)),
                                  row(2, geometry=shapely.box(500, 0, 520, 20))]), layer, state)
    assert codes(first) == {(1, "GEOM_DUPLICATE", "error")}  # same polygon, other ring start
    second = validate_chunk(frame([row(3, geometry=same), row(4, geometry=same),
                                   row(5, geometry=shapely.box(5, 5, 25, 25))], start=3),
                            layer, state)
    # 3 and 4 repeat 0; 5 overlaps 0 (not the duplicates, which take no further part)
    assert codes(second) == {(3, "GEOM_DUPLICATE", "error"), (4, "GEOM_DUPLICATE", "error"),
                             (5, "GEOM_OVERLAP", "error")}
    named = second.problems.sort_values("feature")[["feature", "code", "other", "other_key"]]
    assert named.values.tolist() == [[3, "GEOM_DUPLICATE", 0, "B-0"],
                                     [4, "GEOM_DUPLICATE", 0, "B-0"],
                                     [5, "GEOM_OVERLAP", 0, "B-0"]]
    assert first.problems[["other", "other_key"]].values.tolist() == [[0, "B-0"]]


def test_hex_ewkb_writes_what_geos_writes():
    """The COPY serialisation's hand-written EWKB headers equal GEOS's own EWKB output."""
    import numpy as np

    from etl.load import as_multi, hex_ewkb

    geoms = np.array([
        shapely.Point(1, 2), shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1),
        shapely.LinearRing([(0, 0), (1, 0), (1, 1), (0, 0)]),
        shapely.MultiPoint([(0, 0), (1, 1)]), shapely.MultiLineString([[(0, 0), (1, 1)]]),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.GeometryCollection([shapely.Point(0, 0)]), shapely.Polygon(), None,
    ], dtype=object)
    for multi in (False, True):
        shown = as_multi(geoms) if multi else geoms
        expected = [None if b is None else b.hex() for b in shapely.to_wkb(
            shapely.set_srid(shown, 5254), include_srid=True)]
        assert hex_ewkb(geoms, 5254, multi=multi) == expected
    with_z = np.array([shapely.Point(1, 2, 3), shapely.box(0, 0, 1, 1)], dtype=object)
    assert hex_ewkb(with_z, 5254)[0] == shapely.to_wkb(
        shapely.set_srid(with_z[0], 5254), include_srid=True).hex()


def test_code_list_suggestions_only_when_alike():
    """Issue 16: a suggestion must be plausible; noise like 'Karma' -> 'Tarımsal' is not."""
    assert closest("Karma", ["Tarımsal", "Konut", "Ticari"]) == ""
    assert closest("Batıkent", ["Yenikent", "Yıldıztepe"]) == ""
    assert closest("Şirintepe", ["Yenikent", "Yıldıztepe"]) == ""
    assert closest("Yenidoan", ["Yenidoğan", "Yeşiltepe"]) == "Yenidoğan"  # a typo still is
    assert closest("YENİDOĞAN MAH.", ["Yenidoğan"]) == "Yenidoğan"
    assert closest("Kırmızı Toprak", ["Kırmızıtoprak"]) == "Kırmızıtoprak"


@pytest.mark.django_db
def test_neighbourhood_of_another_district_is_named(settings):
    """Issue 16: a Tepebaşı neighbourhood sent to Odunpazarı says so (official lists)."""
    settings.KENTCBS_PROFILE = "odunpazari"
    assert districts_with_neighbourhood("Batıkent", profile="odunpazari") == [
        "Tepebaşı (Eskişehir)"]
    assert districts_with_neighbourhood("Yenidoğan", profile="odunpazari") == []
    layer = make_layer(fields=[
        {"name": "bina_no", "type": "string", "required": True,
         "title": {"tr": "Bina no", "en": "Building no"}},
        {"name": "mahalle_adi", "type": "string", "codelist": "mahalle",
         "title": {"tr": "Mahalle", "en": "Neighbourhood"}}])
    rows = [{"bina_no": "B-0", "mahalle_adi": "Batıkent", "geometry": shapely.box(0, 0, 20, 20)},
            {"bina_no": "B-1", "mahalle_adi": "Şirintepe",
             "geometry": shapely.box(100, 0, 120, 20)},
            {"bina_no": "B-2", "mahalle_adi": "Karma", "geometry": shapely.box(200, 0, 220, 20)}]
    result = validate_chunk(frame(rows), layer, FileState())
    shown = render(result.problems).sort_values("feature")
    assert shown["suggestion"].tolist() == ["", "", ""]
    assert shown["hint"].tolist() == ["Tepebaşı (Eskişehir)", "Tepebaşı (Eskişehir)", ""]
    assert "official neighbourhood of Tepebaşı (Eskişehir)" in shown["message_en"].iloc[0]
    assert "Tepebaşı (Eskişehir)" in shown["message_tr"].iloc[0]
    assert "mean" not in shown["message_en"].iloc[2] and "Tarımsal" not in shown[
        "message_en"].iloc[2]


def test_every_rule_a_feature_breaks_is_reported():
    """Issue 16: an invalid polygon under the minimum area gets both codes (and one that
    is invalid, tiny and overlapping another gets all three)."""
    layer = make_layer(geometry_rules={"valid": True, "min_area": 4, "no_overlap": True,
                                       "within_municipality": True})
    tiny_bowtie = shapely.Polygon([(300, 0), (301, 1), (301, 0), (300, 1)])  # 0.5 m², invalid
    over = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # invalid, over feature 0, tiny
    rows = [row(0), row(1, geometry=tiny_bowtie), row(2, geometry=over)]
    result = validate_chunk(frame(rows), layer, FileState(),
                            boundary=shapely.box(-50, -50, 1000, 1000))
    found = {(f, c) for f, c, _ in codes(result)}
    assert found == {(1, "GEOM_INVALID"), (1, "BELOW_MIN_AREA"), (2, "GEOM_INVALID"),
                     (2, "BELOW_MIN_AREA"), (2, "GEOM_OVERLAP")}


def test_repair_offered_is_of_the_layer_type():
    """Issue 16: a polygon whose repair is a line offers no LineString; a polygon layer's
    repair is a polygon, a single-part layer's repair has one part."""
    spike = shapely.Polygon([(0, 0), (20, 0), (20, 20), (0, 20), (0, 0), (-10, -10), (0, 0)])
    flat = shapely.Polygon([(400, 0), (410, 0), (420, 0), (400, 0)])  # collapses to a line
    bowtie = shapely.Polygon([(300, 0), (320, 20), (320, 0), (300, 20)])  # two triangles
    rows = [row(0, geometry=spike), row(1, geometry=flat), row(2, geometry=bowtie)]
    for kind in ("MultiPolygon", "Polygon"):
        layer = make_layer(geometry_type=kind, geometry_rules={"valid": True})
        result = validate_chunk(frame([dict(r) for r in rows]), layer, FileState())
        invalid = render(result.problems[result.problems["code"] == "GEOM_INVALID"]).set_index(
            "feature")
        assert set(invalid.index) == {0, 1, 2}
        offered = result.repaired
        assert offered.loc[0].geom_type in (kind, "Polygon") and offered.loc[0].area == 400
        assert shapely.from_wkt(invalid.loc[0, "suggestion"]).geom_type in (kind, "Polygon")
        assert offered.loc[1] is None and invalid.loc[1, "suggestion"] == ""
        assert "LineString" in invalid.loc[1, "message_en"]
        assert "redraw" in invalid.loc[1, "message_en"] and "offered" not in invalid.loc[
            1, "message_en"]
        if kind == "MultiPolygon":
            assert offered.loc[2].geom_type == "MultiPolygon"
        else:  # two parts: not a repair a Polygon layer can hold
            assert offered.loc[2] is None and "redraw" in invalid.loc[2, "message_en"]
    assert not rows[1]["geometry"].is_valid


def test_duplicate_points_name_the_first():
    layer = make_layer(geometry_type="Point", geometry_rules={})
    state = FileState()
    validate_chunk(frame([row(0, geometry=shapely.Point(1, 1)),
                          row(1, geometry=shapely.Point(5, 5)),
                          row(2, geometry=shapely.Point(5, 5))]), layer, state)
    second = validate_chunk(frame([row(3, geometry=shapely.Point(1, 1))], start=3), layer, state)
    assert second.problems[["feature", "key", "other", "other_key"]].values.tolist() == [
        [3, "B-3", 0, "B-0"]]
    shown = render(second.problems)
    assert "row 1 (B-0)" in shown["message_en"].iloc[0]
