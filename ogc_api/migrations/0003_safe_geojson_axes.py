"""ogc_api_safe_geojson(geom, srid, digits, flip): as 0002, in the output CRS's axis order.

``flip`` is true for a CRS whose first axis is northing (EPSG:4326, EPSG:5254 ...):
OGC API - Features Part 2 answers in the CRS's own axis order, PostGIS keeps x = east.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION ogc_api_safe_geojson(g geometry, out_srid integer, digits integer,
                                                flip boolean)
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    projected geometry;
BEGIN
    IF out_srid = ST_SRID(g) THEN
        projected := g;
    ELSE
        projected := ST_Transform(g, out_srid);
    END IF;
    IF flip THEN
        projected := ST_FlipCoordinates(projected);
    END IF;
    RETURN ST_AsGeoJSON(projected, digits)::json;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("ogc_api", "0002_safe_geojson")]
    operations = [migrations.RunSQL(
        FUNCTION,
        "DROP FUNCTION IF EXISTS ogc_api_safe_geojson(geometry, integer, integer, boolean)")]
