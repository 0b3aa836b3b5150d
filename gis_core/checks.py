"""System checks of the core that need the database (``kentcbs check --database default``;
``kentcbs migrate`` runs them before it changes anything)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register


@register(Tags.database)
def storage_srid_matches_the_database(app_configs: Any = None, databases: Any = None,
                                      **kwargs: Any) -> list[Error]:
    """``gis_core.E101``: the database's geometries are in another SRID than the settings'
    (``$KENTCBS_HOME/municipality.json`` lost, another KENTCBS_HOME, or KENTCBS_SRID set):
    new tables would be made in the wrong zone."""
    from django.conf import settings
    from django.db import DatabaseError, connections

    errors: list[Error] = []
    for alias in databases or []:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT srid FROM geometry_columns WHERE f_table_name = "
                               "'gis_core_municipality' AND f_geometry_column = 'boundary'")
                row = cursor.fetchone()
        except DatabaseError:
            continue  # no PostGIS yet: nothing stored to compare with
        if row is not None and int(row[0]) != int(settings.KENTCBS_SRID):
            errors.append(Error(
                f"The database '{alias}' stores geometries in EPSG:{row[0]}, but the settings "
                f"say EPSG:{settings.KENTCBS_SRID}.",
                hint="Use the KENTCBS_HOME whose municipality.json set this database up "
                     "(kentcbs municipality init), or unset KENTCBS_SRID/KENTCBS_PROFILE.",
                id="gis_core.E101"))
    return errors
