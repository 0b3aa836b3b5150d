"""``{{ date|due_words }}``: an expiry in words, in the user's language ("12 days left");
``{{ date|payment_due_words }}``: the same for an instalment ("overdue for 12 days")."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.filter
def due_words(due: dt.date | None, today: dt.date | None = None) -> SafeString | str:
    if due is None:
        return gettext("perpetual")
    today = today or timezone.localdate()
    days = (due - today).days
    when = due.strftime("%d.%m.%Y")
    if days < 0:
        return format_html('{} <strong class="alert">{}</strong>', when, ngettext(
            "expired ({days} day ago)", "expired ({days} days ago)", -days).format(days=-days))
    if days == 0:
        return format_html('{} <strong class="alert">{}</strong>', when, gettext("ends today"))
    css = "warning" if days <= 60 else "ok"
    return format_html('{} <span class="{}">{}</span>', when, css, ngettext(
        "{days} day left", "{days} days left", days).format(days=days))


@register.filter
def payment_due_words(due: dt.date, today: dt.date | None = None) -> SafeString | str:
    """An instalment's due date in words: "overdue for 12 days" once past (not "expired")."""
    today = today or timezone.localdate()
    days = (today - due).days
    if days <= 0:
        return due_words(due, today)
    return format_html('{} <strong class="alert">{}</strong>', due.strftime("%d.%m.%Y"),
                       ngettext("overdue for {days} day", "overdue for {days} days",
                                days).format(days=days))
