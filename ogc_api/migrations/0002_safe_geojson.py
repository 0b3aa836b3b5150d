"""ogc_api_safe_geojson(geom, srid, digits): GeoJSON of a geometry, NULL when it cannot be made.

Used only when a page fails: one broken stored geometry becomes a null geometry
instead of a server error for the whole page.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION ogc_api_safe_geojson(g geometry, out_srid integer, digits integer)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF out_srid = ST_SRID(g) THEN
        RETURN ST_AsGeoJSON(g, digits)::json;
    END IF;
    RETURN ST_AsGeoJSON(ST_Transform(g, out_srid), digits)::json;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("ogc_api", "0001_initial")]
    operations = [migrations.RunSQL(
        FUNCTION, "DROP FUNCTION IF EXISTS ogc_api_safe_geojson(geometry, integer, integer)")]
