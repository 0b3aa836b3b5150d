"""Database-side guarantees of the 5651 records: append-only, purge only past the minimum.

Each protected table gets a row trigger that refuses every ``UPDATE`` and every
``DELETE``, except a ``DELETE`` made inside :func:`modules.netops.services.purge`:
it sets ``kentcbs.netops_purge_before`` for its transaction, and the trigger lets a
row go only when that moment is itself older than the table's legal minimum
(two years for the records, three for the destruction log) and the row is older
than that moment. So no application path, and no mistaken purge setting, can
shorten the retention the law asks for. ``UPDATE``/``DELETE``/``TRUNCATE`` are also
revoked from ``PUBLIC``; a deployment whose application role does not own the
tables therefore has none of them at all. (``TRUNCATE`` stays with the owner:
Django's test flush needs it.)
"""

from __future__ import annotations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION netops_append_only() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    purge_before timestamptz := nullif(current_setting('kentcbs.netops_purge_before', true),
                                       '')::timestamptz;
    row_time timestamptz;
BEGIN
    IF TG_OP = 'DELETE' AND purge_before IS NOT NULL
       AND purge_before <= now() - TG_ARGV[1]::interval THEN
        EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING OLD INTO row_time;
        IF row_time < purge_before THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('%s kayıtları değiştirilemez ve saklama süresi (%s) dolmadan '
                         'silinemez (5651) / %s records cannot be changed, nor deleted before '
                         'their retention (%s) ends (Law 5651)',
                         TG_TABLE_NAME, TG_ARGV[1], TG_TABLE_NAME, TG_ARGV[1]);
END
$fn$;
"""

#: (table, time column, legal minimum)
PROTECTED = (
    ("netops_dhcplease", "starts_at", "2 years"),
    ("netops_leaseend", "ended_at", "2 years"),
    ("netops_dailyarchive", "created_at", "2 years"),
    ("netops_lookuprecord", "looked_at", "2 years"),
    ("netops_purgerecord", "purged_at", "3 years"),
)


def forward() -> list[str]:
    statements = [FUNCTION]
    for table, column, minimum in PROTECTED:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION netops_append_only('{column}', '{minimum}')",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC",
        ]
    return statements


def backward() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"
            for table, _c, _m in PROTECTED] + ["DROP FUNCTION IF EXISTS netops_append_only()"]
