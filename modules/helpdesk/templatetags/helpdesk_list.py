"""The ticket list's rows: ``{% load helpdesk_list %}{% ticket_rows tickets %}``.

The rows are built in Python with ``format_html``, as Django's admin builds its change
list (``django/contrib/admin/templatetags/admin_list.py``). In the template language each
row resolved ~25 variables, two ``{% url %}`` tags and two ``date`` filters: a page of 25
rows made 64,800 Python function calls, 48,400 now (cProfile through the WSGI
application; README "Load").
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gis_core.labels import department_label

register = template.Library()

#: ``d.m.Y H:i`` of the template language's ``date`` filter.
STAMP = "%d.%m.%Y %H:%M"
#: The row attribute of a ticket past its resolution due time (a constant, not input).
OVERDUE_ROW = mark_safe(' class="overdue"')


def _stamp(value: Any) -> str:
    return timezone.localtime(value).strftime(STAMP) if value else ""


@register.simple_tag
def ticket_rows(tickets: Any) -> SafeString:
    """One ``<tr>`` per ticket (labels set by the view: ``category_label``, ``priority_label``,
    ``status_label``; ``overdue`` from ``with_overdue``); a single row saying so when empty."""
    if not tickets:
        return format_html('<tr><td colspan="9">{}</td></tr>', _("No ticket matches."))
    past_due = format_html(' <span class="badge overdue" title="{}">{}</span>',
                           _("Resolution due time has passed"), _("Past due"))

    def cells(ticket: Any) -> tuple[Any, ...]:
        href = reverse("helpdesk:ticket_detail", args=[ticket.pk])
        overdue = bool(getattr(ticket, "overdue", False))
        building = ticket.building
        return (href, ticket.number, OVERDUE_ROW if overdue else "",
                href, ticket.number, ticket.title, ticket.category_label, ticket.priority,
                ticket.priority_label, ticket.status, ticket.status_label,
                past_due if overdue else "",
                building.name if building is not None and building.name else "—",
                department_label(ticket.responsible_unit), _stamp(ticket.opened_at),
                " error" if overdue else "", _stamp(ticket.resolution_due_at))

    return format_html_join(
        "", '\n<tr data-href="{}" data-number="{}"{}><td class="nowrap"><a href="{}">{}</a></td>'
        "<td>{}</td>\n<td>{}</td><td><span class=\"badge priority-{}\">{}</span></td>\n"
        '<td><span class="badge state-{}">{}</span>{}</td>\n<td>{}</td><td>{}</td>\n'
        '<td class="nowrap">{}</td><td class="nowrap{}">{}</td></tr>',
        (cells(ticket) for ticket in tickets))
