"""Rules the database enforces with triggers (a CHECK cannot look at another row).

Each rule raises ``check_violation`` with a named constraint, which
``gis_core.constraints`` turns into a bilingual message.
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION gis_core_asset_rules() RETURNS trigger AS $$
DECLARE
    room_building bigint;
    fp geometry;
BEGIN
    IF NEW.room_id IS NOT NULL THEN
        SELECT building_id INTO room_building FROM gis_core_room WHERE id = NEW.room_id;
        IF NEW.building_id IS DISTINCT FROM room_building THEN
            RAISE EXCEPTION 'room % is not in building %', NEW.room_id, NEW.building_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_room_in_building';
        END IF;
    END IF;
    IF NEW.location IS NOT NULL AND NEW.building_id IS NOT NULL THEN
        SELECT footprint INTO fp FROM gis_core_building WHERE id = NEW.building_id;
        IF NOT ST_Covers(fp, NEW.location) THEN
            RAISE EXCEPTION 'asset % lies outside its building', NEW.inventory_number
                USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_location_within_building';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'scrapped' AND NEW.status <> 'scrapped' THEN
        RAISE EXCEPTION 'asset % is scrapped', NEW.inventory_number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_scrapped_final';
    END IF;
    IF NEW.status = 'scrapped' AND (TG_OP = 'INSERT' OR OLD.status <> 'scrapped') AND EXISTS (
        SELECT 1 FROM gis_core_networklink l
        WHERE (l.a_asset_id = NEW.id OR l.b_asset_id = NEW.id) AND l.status <> 'decommissioned'
    ) THEN
        RAISE EXCEPTION 'asset % still has active links', NEW.inventory_number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_scrapped_linked';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER gis_core_asset_rules BEFORE INSERT OR UPDATE ON gis_core_asset
    FOR EACH ROW EXECUTE FUNCTION gis_core_asset_rules();

CREATE OR REPLACE FUNCTION gis_core_building_rules() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gis_core_asset a WHERE a.building_id = NEW.id
               AND a.location IS NOT NULL AND NOT ST_Covers(NEW.footprint, a.location)) THEN
        RAISE EXCEPTION 'the new footprint of building % leaves assets outside', NEW.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_location_within_building';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER gis_core_building_rules BEFORE UPDATE OF footprint ON gis_core_building
    FOR EACH ROW EXECUTE FUNCTION gis_core_building_rules();

CREATE OR REPLACE FUNCTION gis_core_room_rules() RETURNS trigger AS $$
BEGIN
    IF NEW.floor_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM gis_core_floor f WHERE f.id = NEW.floor_id AND f.building_id = NEW.building_id
    ) THEN
        RAISE EXCEPTION 'floor % is not in building %', NEW.floor_id, NEW.building_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'room_floor_in_building';
    END IF;
    IF NEW.outline IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM gis_core_building b WHERE b.id = NEW.building_id
        AND ST_Covers(ST_Buffer(b.footprint, 0.5), NEW.outline)
    ) THEN
        RAISE EXCEPTION 'room % lies outside its building', NEW.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'room_outline_within_building';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.building_id <> OLD.building_id AND EXISTS (
        SELECT 1 FROM gis_core_asset a WHERE a.room_id = NEW.id
    ) THEN
        RAISE EXCEPTION 'room % holds assets of its building', NEW.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'asset_room_in_building';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER gis_core_room_rules BEFORE INSERT OR UPDATE ON gis_core_room
    FOR EACH ROW EXECUTE FUNCTION gis_core_room_rules();

-- The place of one end of a link: the asset's point, else its building's inner point.
CREATE OR REPLACE FUNCTION gis_core_link_end(asset_id bigint, building_id bigint)
RETURNS geometry AS $$
    SELECT COALESCE(
        (SELECT a.location FROM gis_core_asset a WHERE a.id = asset_id),
        (SELECT ST_PointOnSurface(b.footprint) FROM gis_core_building b
          WHERE b.id = COALESCE(building_id,
                                (SELECT a.building_id FROM gis_core_asset a WHERE a.id = asset_id))))
$$ LANGUAGE sql STABLE;

-- Does a point lie at an end: within 1 m of the asset's point, or inside the building.
CREATE OR REPLACE FUNCTION gis_core_at_link_end(p geometry, asset_id bigint, building_id bigint)
RETURNS boolean AS $$
    SELECT CASE
        WHEN asset_id IS NOT NULL AND
             (SELECT a.location FROM gis_core_asset a WHERE a.id = asset_id) IS NOT NULL
        THEN ST_DWithin(p, (SELECT a.location FROM gis_core_asset a WHERE a.id = asset_id), 1.0)
        ELSE COALESCE(ST_DWithin(p, (SELECT b.footprint FROM gis_core_building b WHERE b.id =
                COALESCE(building_id,
                         (SELECT a.building_id FROM gis_core_asset a WHERE a.id = asset_id)))
             , 1.0), false)
    END
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION gis_core_link_rules() RETURNS trigger AS $$
DECLARE
    asset_building bigint;
    a_end geometry;
    b_end geometry;
BEGIN
    IF EXISTS (SELECT 1 FROM gis_core_asset a WHERE a.id IN (NEW.a_asset_id, NEW.b_asset_id)
               AND a.status = 'scrapped') AND NEW.status <> 'decommissioned' THEN
        RAISE EXCEPTION 'a scrapped asset cannot be linked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'link_asset_scrapped';
    END IF;
    -- An asset end fills in (or must agree with) the building of that end.
    IF NEW.a_asset_id IS NOT NULL THEN
        SELECT building_id INTO asset_building FROM gis_core_asset WHERE id = NEW.a_asset_id;
        IF NEW.a_building_id IS NULL THEN
            NEW.a_building_id := asset_building;
        ELSIF asset_building IS NOT NULL AND asset_building <> NEW.a_building_id THEN
            RAISE EXCEPTION 'A-end device is in another building'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'link_end_building_mismatch';
        END IF;
    END IF;
    IF NEW.b_asset_id IS NOT NULL THEN
        SELECT building_id INTO asset_building FROM gis_core_asset WHERE id = NEW.b_asset_id;
        IF NEW.b_building_id IS NULL THEN
            NEW.b_building_id := asset_building;
        ELSIF asset_building IS NOT NULL AND asset_building <> NEW.b_building_id THEN
            RAISE EXCEPTION 'B-end device is in another building'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'link_end_building_mismatch';
        END IF;
    END IF;
    IF NEW.route IS NULL THEN
        a_end := gis_core_link_end(NEW.a_asset_id, NEW.a_building_id);
        b_end := gis_core_link_end(NEW.b_asset_id, NEW.b_building_id);
        IF a_end IS NULL OR b_end IS NULL THEN
            RAISE EXCEPTION 'the ends of the link have no location'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'link_ends_located';
        END IF;
        NEW.route := ST_MakeLine(a_end, b_end);
    ELSIF NOT (gis_core_at_link_end(ST_StartPoint(NEW.route), NEW.a_asset_id, NEW.a_building_id)
               AND gis_core_at_link_end(ST_EndPoint(NEW.route), NEW.b_asset_id, NEW.b_building_id))
    THEN
        RAISE EXCEPTION 'the route does not start and end at the link''s ends'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'link_route_ends';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER gis_core_link_rules BEFORE INSERT OR UPDATE ON gis_core_networklink
    FOR EACH ROW EXECUTE FUNCTION gis_core_link_rules();
"""

REVERSE = """
DROP TRIGGER IF EXISTS gis_core_link_rules ON gis_core_networklink;
DROP FUNCTION IF EXISTS gis_core_link_rules();
DROP FUNCTION IF EXISTS gis_core_at_link_end(geometry, bigint, bigint);
DROP FUNCTION IF EXISTS gis_core_link_end(bigint, bigint);
DROP TRIGGER IF EXISTS gis_core_room_rules ON gis_core_room;
DROP FUNCTION IF EXISTS gis_core_room_rules();
DROP TRIGGER IF EXISTS gis_core_building_rules ON gis_core_building;
DROP FUNCTION IF EXISTS gis_core_building_rules();
DROP TRIGGER IF EXISTS gis_core_asset_rules ON gis_core_asset;
DROP FUNCTION IF EXISTS gis_core_asset_rules();
"""


class Migration(migrations.Migration):
    dependencies = [("gis_core", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
