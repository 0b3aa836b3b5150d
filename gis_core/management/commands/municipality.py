"""``kentcbs municipality init``: set up this deployment's municipality from its boundary.

See :mod:`gis_core.municipality` for the steps and README "How a municipality moves
in". ``kentcbs municipality apply`` is the second half, run by ``init`` in a new
process that has read the recorded SRID; it is not meant to be run by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from gis_core.municipality import MunicipalityRefused


class Command(BaseCommand):
    help = ("Belediyeyi kendi sınırından kur / Set up the municipality from its own boundary "
            "(init), or show it (show).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="set up the municipality on a new database")
        init.add_argument("--name", required=True, help="district (ilçe), e.g. Odunpazarı")
        init.add_argument("--province", required=True, help="province (il), e.g. Eskişehir")
        init.add_argument("--boundary", required=True, type=Path,
                          help="GeoPackage, zipped Shapefile, GeoJSON or KML, any CRS")
        init.add_argument("--layer", default=None, help="layer of a multi-layer file")
        init.add_argument("--name-field", default=None,
                          help="field with district names, when the file holds several")
        init.add_argument("--crs", default=None, help="CRS when the file declares none")
        init.add_argument("--departments", type=Path, default=None,
                          help="departments and roles YAML (default: the shipped tree)")
        apply = sub.add_parser("apply", help="(internal) second half of init")
        apply.add_argument("--name", required=True)
        apply.add_argument("--province", required=True)
        apply.add_argument("--boundary-wkb", required=True, type=Path)
        sub.add_parser("show", help="the municipality of this deployment")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "init":
            self._init(**options)
        elif action == "apply":
            self._apply(**options)
        else:
            self._show()

    def _line(self, label: str, value: object) -> None:
        self.stdout.write(f"{label:34} {value}")

    def _init(self, *, name: str, province: str, boundary: Path, layer: str | None,
              name_field: str | None, crs: str | None, departments: Path | None,
              **_options: Any) -> None:
        from gis_core.departments import read_departments
        from gis_core.deployment import municipality_file, write_municipality_file
        from gis_core.municipality import (
            check_boundary,
            check_database,
            database_state,
            deployment_record,
            read_boundary,
            zone_label,
        )
        from layers.official import district as find_district

        district = find_district(province, name)
        self._line("İlçe / District", f"{district.name} ({district.province}): "
                   f"{district.area_km2:g} km², {district.neighbourhood_count} mahalle "
                   "(national registry)")
        if not boundary.exists():
            raise MunicipalityRefused("BOUNDARY_FILE_MISSING", "There is no file '{path}'.",
                                      path=str(boundary))
        lonlat, source, notes = read_boundary(boundary, district=district, layer=layer,
                                              name_field=name_field, crs=crs)
        self._line("Sınır dosyası / Boundary file", source)
        for note in notes:
            self._line("Uyarı / Warning", note)
        checked = check_boundary(lonlat, district=district)
        self._line("Alan / Area", f"{checked.area_km2:.1f} km² "
                   f"({checked.area_ratio:.2f} × the official {district.area_km2:g} km²)")
        self._line("Merkez / Centroid", f"{checked.centre[0]:.4f} E, {checked.centre[1]:.4f} N")
        self._line("Depolama SRID'i / Storage SRID", zone_label(checked.srid))
        for variable, wanted in (("KENTCBS_SRID", str(checked.srid)),
                                 ("KENTCBS_PROFILE", checked.code)):
            value = os.environ.get(variable, "").strip()
            if value and value.lower() != wanted:
                raise MunicipalityRefused(
                    "ENV_OVERRIDES_MUNICIPALITY", "The environment sets {variable}={value}, "
                    "which would override this municipality ({wanted}) at every start; unset "
                    "it and run again.", variable=variable, value=value, wanted=wanted)
        if departments is not None:
            rows, roles = read_departments(departments)
            self._line("Birimler / Departments", f"{departments}: {len(rows)} departments, "
                       f"roles {', '.join(roles)}")
        again = check_database(checked, database_state())
        home = Path(settings.HOME)
        if departments is not None:
            home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(departments, home / "departments.yaml")
        path = write_municipality_file(home, deployment_record(checked))
        self._line("Ayarlar / Settings", f"{municipality_file(home)} (srid {checked.srid})")
        if again:
            self._line("Durum / State", "already set up here; brought up to date")
        with tempfile.TemporaryDirectory(prefix="kentcbs-init-") as folder:
            wkb = Path(folder) / "boundary.wkb"
            wkb.write_bytes(checked.lonlat.wkb)
            # A new process: its settings read municipality.json, so every model and
            # migration uses the recorded SRID.
            env = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SETTINGS_MODULE",)}
            done = subprocess.run(  # noqa: S603 - this Python, fixed arguments
                [sys.executable, "-m", "gis_core.cli", "municipality", "apply",
                 "--name", district.name, "--province", district.province,
                 "--boundary-wkb", str(wkb)], env=env, check=False)
        if done.returncode != 0:
            self.stderr.write(f"kentcbs: {path} records {checked.code}; the database is "
                              "not set up yet (see above). Run the command again.")
            raise SystemExit(done.returncode)

    def _apply(self, *, name: str, province: str, boundary_wkb: Path, **_options: Any) -> None:
        import shapely
        from django.core.management import call_command

        from gis_core.departments import read_departments
        from gis_core.municipality import check_boundary, create_municipality
        from layers.codelists import codes
        from layers.official import district as find_district

        district = find_district(province, name)
        lonlat = shapely.from_wkb(boundary_wkb.read_bytes())
        checked = check_boundary(lonlat, district=district)
        call_command("migrate", interactive=False, verbosity=0)
        self._line("Veritabanı / Database",
                   f"migrated, geometries in EPSG:{settings.KENTCBS_SRID}")
        municipality = create_municipality(checked)
        self._line("Belediye / Municipality", f"{municipality.name} ({municipality.province}), "
                   f"code {municipality.code}")
        self._line("Mahalle kod listesi / mahalle list", f"{len(codes('mahalle'))} official "
                   "names")
        from gis_core.models import Department as DepartmentModel

        _rows, roles = read_departments()
        self._line("Birimler / Departments", f"{DepartmentModel.objects.count()} in the "
                   f"database; roles: {', '.join(roles)}")

    def _show(self) -> None:
        from gis_core.models import Municipality

        municipality = Municipality.current()
        if municipality is None:
            self.stdout.write("—")
            return
        area = municipality.boundary.area / 1e6 if municipality.boundary else 0
        self._line("Belediye / Municipality", f"{municipality.name} ({municipality.province})")
        self._line("Depolama SRID'i / Storage SRID", f"EPSG:{municipality.srid}")
        self._line("Alan / Area", f"{area:.1f} km²")
