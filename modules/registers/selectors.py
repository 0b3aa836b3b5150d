"""Permission-aware reads of the registers module.

Who may open a room's fixture list (Dayanıklı Taşınırlar Listesi):

* the IT directorate (``gis_core.selectors.is_it_staff``: its members and units, superusers);
* members of a department that holds an asset in the room, or of a directorate above it
  (a müdürlük sees its birims' rooms; a birim does not see its müdürlük's rooms).

Counts (sayım) and their reports are IT pages (declared in ``kentcbs.py``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from gis_core.choices import AssetStatusChoices


def fixture_assets(*, room: Any) -> QuerySet[Any]:
    """The assets of ``room`` that belong on its fixture list (everything but hurda)."""
    from gis_core.models import Asset

    return (Asset.objects.filter(room=room).exclude(status=AssetStatusChoices.SCRAPPED)
            .select_related("department").order_by("tasinir_code", "inventory_number"))


def room_departments(*, room: Any) -> list[Any]:
    """Departments holding an asset in ``room`` (the units the list belongs to)."""
    from gis_core.models import Department

    ids = fixture_assets(room=room).exclude(department=None).values("department_id")
    return list(Department.objects.filter(id__in=ids).order_by("name"))


def may_see_room_fixtures(*, user: Any, room: Any) -> bool:
    """May ``user`` open the fixture list of ``room``? (see the module docstring)."""
    from gis_core.selectors import department_lineage, department_parents, is_it_staff, user_access

    access = user_access(user)
    if not access.is_authenticated:
        return False
    if is_it_staff(user):
        return True
    mine = {code for code, _role in access.memberships}
    if not mine:
        return False
    parents = department_parents()
    for department in room_departments(room=room):
        if mine & set(department_lineage(department.code, parents)):
            return True
    return False


def visible_fixture_rooms(*, user: Any, building: Any) -> list[Any]:
    """Rooms of ``building`` whose fixture list ``user`` may open (by floor and code)."""
    from gis_core.models import Room

    rooms = (Room.objects.filter(building=building).select_related("floor", "building")
             .order_by("floor__number", "code"))
    return [room for room in rooms if may_see_room_fixtures(user=user, room=room)]
