"""Reading ids and numbers from query strings and forms: malformed is a 400, never a 500.

Python's ``str.isdigit()`` and ``int()`` accept more than an id: Arabic-Indic digits
(``"١٢٣"``), superscripts (``"²"``, a digit to ``isdigit`` that ``int`` refuses) and
numbers past PostgreSQL's ``bigint``. Views read ids through :func:`id_param`.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext

from gis_core.errors import InvalidParameter

#: The largest value of PostgreSQL's bigint (the type of every primary key).
BIGINT_MAX = 2**63 - 1


def parse_id(value: str | None, *, name: str) -> int | None:
    """``value`` as a record id; ``None`` when empty; :class:`InvalidParameter` if malformed.

    Examples
    --------
    >>> parse_id("42", name="building")
    42
    >>> parse_id("", name="building") is None
    True
    """
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > BIGINT_MAX:
        raise InvalidParameter(name, gettext("a record number"))
    return int(value)


def id_param(params: Mapping[str, str], name: str) -> int | None:
    """The id in ``params[name]`` (a ``request.GET`` or ``request.POST``), or ``None``."""
    return parse_id(params.get(name), name=name)
