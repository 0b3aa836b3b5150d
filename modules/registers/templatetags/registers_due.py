"""``{{ date|due_words }}``: an expiry in words (Turkish first), e.g. "12 gün kaldı / days left"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def due_words(due: dt.date | None, today: dt.date | None = None) -> SafeString | str:
    if due is None:
        return "süresiz / perpetual"
    today = today or timezone.localdate()
    days = (due - today).days
    when = due.strftime("%d.%m.%Y")
    if days < 0:
        return format_html('{} <strong class="alert">süresi doldu ({} gün önce) / expired '
                           '({} days ago)</strong>', when, -days, -days)
    if days == 0:
        return format_html('{} <strong class="alert">bugün bitiyor / ends today</strong>', when)
    css = "warning" if days <= 60 else "ok"
    return format_html('{} <span class="{}">{} gün kaldı / days left</span>', when, css, days)
