"""The tile cache's change counter (ogc_api.tilecache) and a serial-plan marker for tiles.

``kentcbs_tiles.generation``: one number per layer table, set from a sequence by a
statement-level trigger on every INSERT, UPDATE, DELETE, TRUNCATE (COPY included) in the
writer's own transaction, so a reader sees the new number exactly when it sees the new
rows; a sequence never gives a number twice, even when the writer rolls back.

``ogc_api_serial()``: a function declared PARALLEL UNSAFE. PostgreSQL decides whether a
query may use parallel workers before planning it, from every function it calls, so a
tile query that calls this one is planned serially without ``SET
max_parallel_workers_per_gather`` around it (see ogc_api.tiles).
"""

from django.db import migrations

FORWARD = """
CREATE SCHEMA IF NOT EXISTS kentcbs_tiles;
CREATE SEQUENCE IF NOT EXISTS kentcbs_tiles.counter;
CREATE TABLE IF NOT EXISTS kentcbs_tiles.generation (
    source text PRIMARY KEY, generation bigint NOT NULL DEFAULT 0);
CREATE OR REPLACE FUNCTION kentcbs_tiles.bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kentcbs_tiles.generation AS g (source, generation)
    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, nextval('kentcbs_tiles.counter'))
    ON CONFLICT (source) DO UPDATE SET generation = excluded.generation;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION ogc_api_serial() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL UNSAFE AS 'SELECT true';
"""

BACKWARD = """
DROP FUNCTION IF EXISTS ogc_api_serial();
DROP SCHEMA IF EXISTS kentcbs_tiles CASCADE;
"""


class Migration(migrations.Migration):
    dependencies = [("ogc_api", "0003_safe_geojson_axes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
