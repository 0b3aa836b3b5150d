"""Page components of the app frame: ``{% load kentcbs_ui %}``.

* ``{% sort_th request "opened" _("Opened") %}``: a table header that sorts by
  ``?sort=opened`` and toggles to ``-opened``, keeping the other query parameters;
* ``{% query request page=3 %}``: the current query string with some parameters replaced
  (for paging links);
* ``{% pager page_obj request %}``: the paging bar of a Django ``Page``;
* ``{% legend_symbol layer.geometry_type entry.style %}``: a legend swatch (the map's side
  panel).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def query(request: Any, **changes: Any) -> str:
    """``?a=1&b=2`` of ``request`` with ``changes`` applied (``None`` or ``""`` removes)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def sort_th(request: Any, key: str, title: str, css: str = "") -> str:
    """A ``<th>`` whose link sorts the list by ``key`` (ascending first, then descending)."""
    current = request.GET.get("sort", "")
    if current == key:
        target, mark, state = f"-{key}", "▲", "ascending"
    elif current == f"-{key}":
        target, mark, state = key, "▼", "descending"
    else:
        target, mark, state = key, "", "none"
    href = query(request, sort=target, page=None)
    return format_html('<th class="{}" aria-sort="{}"><a href="{}">{} <span class="sort">{}</span>'
                       "</a></th>", css, state, href, title, mark)


@register.inclusion_tag("web/components/pager.html")
def pager(page_obj: Any, request: Any) -> dict[str, Any]:
    """Previous / next and nearby page numbers of a Django ``Page``."""
    paginator = page_obj.paginator
    numbers = paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    return {"page_obj": page_obj, "request": request, "numbers": list(numbers),
            "ellipsis": paginator.ELLIPSIS,
            "summary": _("%(first)s–%(last)s of %(total)s") % {
                "first": page_obj.start_index(), "last": page_obj.end_index(),
                "total": paginator.count}}


@register.simple_tag(takes_context=True)
def page_link(context: dict[str, Any], number: int) -> str:
    return query(context["request"], page=number)


@register.filter
def person(user: Any) -> str:
    """A user's full name, else the user name, else "—"."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


@register.simple_tag
def legend_symbol(geometry_type: str, style: dict[str, Any]) -> str:
    """The legend swatch of a layer's style (line, point or area), as on the map."""
    from django.template.defaultfilters import floatformat

    if "Line" in geometry_type:
        dashed = "border-top-style:dashed;" if style.get("dashArray") else ""
        return format_html('<span class="legend-line" style="border-top-color:{};'
                           'border-top-width:{}px;{}"></span>', style.get("color", ""),
                           floatformat(style.get("weight", ""), 0), dashed)
    css = "sw dot" if "Point" in geometry_type else "sw"
    return format_html('<span class="{}" style="background:{};border-color:{}"></span>', css,
                       style.get("fillColor", ""), style.get("color", ""))
