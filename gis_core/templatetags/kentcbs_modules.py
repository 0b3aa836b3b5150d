"""Template filters for module pages: ``{% load kentcbs_modules %}``.

``{% if user|may_open:"helpdesk:map" %}`` shows a link exactly when the core's page
guard (:func:`gis_core.modules.may_open`) would serve the page to ``user``.
"""

from __future__ import annotations

from typing import Any

from django import template

from gis_core.modules import may_open as _may_open

register = template.Library()


@register.filter
def may_open(user: Any, url_name: str) -> bool:
    """Whether ``user`` may open the module page ``url_name``."""
    return _may_open(user, url_name)
