"""Module discovery: the one place where the core learns about ``modules.*`` apps.

A module is a Django app under ``modules/`` listed in ``settings.KENTCBS_MODULES``.
It declares what it adds to the core in ``modules/<name>/kentcbs.py`` as
``MODULE = ModuleSpec(...)``. The core never imports a module by name: it calls
:func:`discover` and reads the specs (menu entries, building panels, URL
include, demo hook, permissions). See ``docs/MODULES.md``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

#: Name of the declaration file inside a module package.
SPEC_MODULE = "kentcbs"
MODULES_PACKAGE = "modules."


@dataclass(frozen=True)
class MenuItem:
    """A menu entry a module adds to the viewer.

    ``required_roles`` empty means every authenticated user sees it; otherwise
    the user needs one of the roles (superusers see everything).
    """

    url_name: str
    title_tr: str
    title_en: str
    required_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildingSummary:
    """What a building panel shows for one building (produced by a module)."""

    title_tr: str
    title_en: str
    #: (label_tr, value) lines.
    lines: tuple[tuple[str, str], ...] = ()
    #: Links (label_tr, url), e.g. "open a ticket for this building".
    links: tuple[tuple[str, str], ...] = ()


#: ``panel(*, user, building) -> BuildingSummary | None`` (None: nothing to show this user).
BuildingPanel = Callable[..., BuildingSummary | None]


@dataclass(frozen=True)
class Permission:
    """A capability a module checks, documented for operators."""

    code: str
    title_tr: str
    title_en: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleSpec:
    """What one module attaches to the core.

    Parameters
    ----------
    code : str
        Short ASCII code (``helpdesk``); also the URL prefix ``/<code>/``.
    title_tr, title_en : str
        Display names (Turkish first).
    app_name : str
        The Django app (``modules.helpdesk``); filled in by :func:`discover`.
    layer_definitions_dir : Path or None
        Folder with the module's layer definitions (``layer_definitions/``);
        the layer registry reads it.
    urls : str or None
        Dotted path of the module's URLconf, included under ``/<code>/``.
    menu_items, building_panels, permissions
        Viewer menu entries, per-building summaries, capabilities.
    demo : callable or None
        ``demo(*, profile) -> dict`` loading the module's demo data; called by
        ``gis_core.demo.load_demo`` after the core demo.
    """

    code: str
    title_tr: str
    title_en: str
    app_name: str = ""
    layer_definitions_dir: Path | None = None
    urls: str | None = None
    menu_items: Sequence[MenuItem] = field(default_factory=tuple)
    building_panels: Sequence[BuildingPanel] = field(default_factory=tuple)
    permissions: Sequence[Permission] = field(default_factory=tuple)
    demo: Callable[..., dict[str, Any]] | None = None


class ModuleDeclarationError(ImproperlyConfigured):
    """An installed module's ``kentcbs.py`` cannot be loaded or declares no ``ModuleSpec``
    (check id ``modules.E001``): raised at start-up, so a broken module stops the process
    with one clear line instead of vanishing or failing at the first request."""


def check_declarations() -> None:
    """Load every installed module's ``kentcbs.py`` once, at start-up (``GisCoreConfig.ready``).

    Raises
    ------
    ModuleDeclarationError
        Naming the module, the file and the error inside it.
    """
    from django.apps import apps

    for config in apps.get_app_configs():
        if not config.name.startswith(MODULES_PACKAGE):
            continue
        dotted = f"{config.name}.{SPEC_MODULE}"
        try:
            if importlib.util.find_spec(dotted) is None:
                continue
            spec = getattr(importlib.import_module(dotted), "MODULE", None)
        except Exception as exc:  # re-raised, typed, with its cause: nothing is swallowed
            raise ModuleDeclarationError(
                f"[modules.E001] Modül bildirimi yüklenemedi / the module declaration cannot "
                f"be loaded: {dotted} ({Path(config.path) / (SPEC_MODULE + '.py')}): "
                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(spec, ModuleSpec):
            raise ModuleDeclarationError(
                f"[modules.E001] Modül bildirimi yüklenemedi / the module declaration cannot "
                f"be loaded: {dotted} defines no MODULE = ModuleSpec(...)")


def discover() -> list[ModuleSpec]:
    """Return the specs of every installed ``modules.*`` app, in INSTALLED_APPS order.

    An installed module without ``kentcbs.py`` contributes nothing (it is a
    plain Django app). An import error inside ``kentcbs.py`` propagates: a
    broken module must fail loudly, not disappear.

    Examples
    --------
    >>> [spec.code for spec in discover()]  # doctest: +SKIP
    ['helpdesk']
    """
    from dataclasses import replace

    from django.apps import apps

    specs: list[ModuleSpec] = []
    for config in apps.get_app_configs():
        if not config.name.startswith(MODULES_PACKAGE):
            continue
        dotted = f"{config.name}.{SPEC_MODULE}"
        if importlib.util.find_spec(dotted) is None:
            continue
        spec = importlib.import_module(dotted).MODULE
        specs.append(replace(spec, app_name=config.name))
    return specs


def menu_for(user: Any) -> list[MenuItem]:
    """Menu entries of all modules that ``user`` may see."""
    from gis_core.selectors import user_access

    access = user_access(user)
    if not access.is_authenticated:
        return []
    items: list[MenuItem] = []
    for spec in discover():
        for item in spec.menu_items:
            if (not item.required_roles or access.is_superuser
                    or access.roles & set(item.required_roles)):
                items.append(item)
    return items


def building_summaries(*, user: Any, building: Any) -> list[BuildingSummary]:
    """Per-building summaries from every module's panels (for the viewer)."""
    result: list[BuildingSummary] = []
    for spec in discover():
        for panel in spec.building_panels:
            summary = panel(user=user, building=building)
            if summary is not None:
                result.append(summary)
    return result


def module_urlpatterns() -> list[Any]:
    """``/<code>/`` URL includes of every module that declares ``urls`` (for gis_core.urls)."""
    from django.urls import include, path

    return [path(f"{spec.code}/", include(spec.urls)) for spec in discover() if spec.urls]


def load_module_demos(*, profile: str) -> dict[str, Any]:
    """Run every module's demo hook (after the core demo); returns their counts by module."""
    return {spec.code: spec.demo(profile=profile) for spec in discover() if spec.demo}
