"""Case-insensitive lookups that respect a column's own collation (Turkish i/İ, ı/I).

Django's PostgreSQL ``icontains`` is ``UPPER(column) LIKE UPPER(%s)``: the column is
upper-cased in its collation (``tr-TR-x-icu`` for Turkish names) but the search text
in the database's default one, so on a cluster whose default is not Turkish
"Belediye" (BELEDİYE) never matches the stored "Belediye" (BELEDİYE vs BELEDIYE).
These lookups give the search text the column's collation, so both sides are
upper-cased by the same rules; columns without a collation are unchanged.
Registered on CharField and TextField in ``GisCoreConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import lookups


class _CollatedSearchText:
    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = super().process_rhs(compiler, connection)  # type: ignore[misc]
        collation = getattr(self.lhs.output_field, "db_collation", None)  # type: ignore[attr-defined]
        if collation and connection.vendor == "postgresql":
            sql = f"({sql} COLLATE {connection.ops.quote_name(collation)})"
        return sql, params


class IExact(_CollatedSearchText, lookups.IExact):
    pass


class IContains(_CollatedSearchText, lookups.IContains):
    pass


class IStartsWith(_CollatedSearchText, lookups.IStartsWith):
    pass


class IEndsWith(_CollatedSearchText, lookups.IEndsWith):
    pass


def register() -> None:
    from django.db.models import CharField, TextField

    for field in (CharField, TextField):
        for lookup in (IExact, IContains, IStartsWith, IEndsWith):
            field.register_lookup(lookup)
