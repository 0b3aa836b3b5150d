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
    the user needs one of the roles (superusers see everything). The roles also
    guard the page itself: the core serves ``url_name`` only to those users
    (:func:`may_open`), so the menu and the page never disagree.
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
class DashboardFigure:
    """One figure of the manager dashboard (``/dashboard/``), produced by the core or a module.

    Labels in ``rows`` are in the request's language (the producer runs inside it). Every
    figure links to the list behind it: ``url`` for the headline, each row's own URL.
    """

    code: str
    title_tr: str
    title_en: str
    #: The headline (``"42"``, ``"12.5 %"``); empty when the figure is a table only.
    value: str = ""
    #: The list behind the headline.
    url: str = ""
    #: (label, value, url) rows, shown as a table and the same numbers as a bar chart.
    rows: tuple[tuple[str, float, str], ...] = ()
    #: What the rows' values count (tr, en), e.g. ("saat", "hours").
    unit_tr: str = ""
    unit_en: str = ""
    #: ``"bar"`` (horizontal bars), ``"column"`` (a time series) or ``""`` (table only).
    chart: str = "bar"
    #: A short explanation of how the figure is computed (tr, en).
    note_tr: str = ""
    note_en: str = ""


#: ``figures(*, user) -> Sequence[DashboardFigure]`` (empty: nothing this user may see).
DashboardFigures = Callable[..., Sequence[DashboardFigure]]


@dataclass(frozen=True)
class ReportTable:
    """One table of the yearly activity report (``/registers/report/<year>/``), produced by a
    module through ``ModuleSpec.report_figures`` (e.g. netops: network uptime per building).

    ``columns`` are the header labels (Turkish), ``rows`` plain values (str, int, float,
    Decimal) in column order; the report renders them as HTML, XLSX and PDF alike.
    """

    code: str
    title_tr: str
    title_en: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...] = ()
    note_tr: str = ""
    note_en: str = ""


#: ``report_figures(*, user, year) -> Sequence[ReportTable]`` (empty: nothing for that year).
ReportFigures = Callable[..., Sequence[ReportTable]]


@dataclass(frozen=True)
class OutageReceipt:
    """What a module's outage handler made of an outage (e.g. the ticket it opened).

    The module that reported the outage keeps it and hands it back with the outage's end,
    so the handler finds its own record again without a table of its own.
    """

    module: str
    ref: str
    label: str = ""
    url: str = ""


@dataclass(frozen=True)
class Outage:
    """An outage a module observed (netops: an asset or a network link went down or came
    back), given to every module's ``outage_handlers``.

    ``key`` names the outage for its whole life (``netops.alert:17``); ``event`` is
    ``"opened"`` or ``"closed"``. With ``"closed"``, ``receipts`` holds what the handler's
    own module returned for ``"opened"``.
    """

    key: str
    event: str
    title: str
    at: Any
    detail: str = ""
    source_module: str = ""
    asset: Any = None
    link: Any = None
    building: Any = None
    receipts: tuple[OutageReceipt, ...] = ()


#: ``handler(*, outage) -> OutageReceipt | None``; runs inside the reporter's transaction.
OutageHandler = Callable[..., OutageReceipt | None]


@dataclass(frozen=True)
class Permission:
    """A capability a module checks, documented for operators.

    ``pages``: URL names (``"helpdesk:statistics"``) of the module's pages that only
    holders of one of ``roles`` may open; the core enforces it where the page is
    served (:func:`module_urlpatterns`), no view needs to repeat it. A capability
    without pages (``helpdesk.work``) is checked by the module's services.
    """

    code: str
    title_tr: str
    title_en: str
    roles: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()


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
    dashboard_figures
        Producers of manager dashboard figures (:class:`DashboardFigure`), called with
        the signed-in user; the dashboard shows them after the core's own.
    report_figures
        Producers of activity report tables (:class:`ReportTable`), called with the user
        and the year; the yearly report (``registers``) adds them after its own.
    demo : callable or None
        ``demo(*, profile) -> dict`` loading the module's demo data; called by
        ``gis_core.demo.load_demo`` after the core demo.
    outage_handlers
        Called with every :class:`Outage` another module reports (:func:`report_outage`),
        e.g. the helpdesk opening a ticket when netops sees an asset go down.
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
    dashboard_figures: Sequence[DashboardFigures] = field(default_factory=tuple)
    report_figures: Sequence[ReportFigures] = field(default_factory=tuple)
    demo: Callable[..., dict[str, Any]] | None = None
    outage_handlers: Sequence[OutageHandler] = field(default_factory=tuple)


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


def page_requirements(spec: ModuleSpec) -> dict[str, list[frozenset[str]]]:
    """Role requirements per URL name of ``spec``'s pages, from its menu and permissions.

    A page listed several times must satisfy every requirement (one role of each).
    """
    needs: dict[str, list[frozenset[str]]] = {}
    for item in spec.menu_items:
        if item.required_roles:
            needs.setdefault(item.url_name, []).append(frozenset(item.required_roles))
    for permission in spec.permissions:
        for page in permission.pages:
            needs.setdefault(page, []).append(frozenset(permission.roles))
    return needs


def _allowed(access: Any, requirements: list[frozenset[str]]) -> bool:
    if not access.is_authenticated:
        return False
    return access.is_superuser or all(access.roles & needed for needed in requirements)


def may_open(user: Any, url_name: str) -> bool:
    """Whether ``user`` may open the module page ``url_name`` (``"helpdesk:map"``).

    Every module page needs a signed-in user; pages named by a ``MenuItem`` with
    ``required_roles`` or by a ``Permission``'s ``pages`` also need one of those roles
    (superusers open everything). The menu and the page guard both ask this.
    """
    from gis_core.selectors import user_access

    access = user_access(user)
    requirements: list[frozenset[str]] = []
    for spec in discover():
        requirements += page_requirements(spec).get(url_name, [])
    return _allowed(access, requirements)


def menu_for(user: Any) -> list[MenuItem]:
    """Menu entries of all modules that ``user`` may open (:func:`may_open`)."""
    from gis_core.selectors import user_access

    access = user_access(user)
    if not access.is_authenticated:
        return []
    items: list[MenuItem] = []
    for spec in discover():
        needs = page_requirements(spec)
        for item in spec.menu_items:
            if _allowed(access, needs.get(item.url_name, [])):
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


def report_outage(outage: Outage) -> list[OutageReceipt]:
    """Give ``outage`` to every installed module's outage handlers; returns their receipts.

    Each handler sees only its own module's receipts and runs in a savepoint: one that
    fails with a typed error (``KentCBSError``) is logged and undone, and neither the outage
    nor the other handlers are lost. A module that is not installed is simply not asked.
    """
    import logging
    from dataclasses import replace

    from django.db import transaction

    from gis_core.errors import KentCBSError

    receipts: list[OutageReceipt] = []
    for spec in discover():
        own = tuple(r for r in outage.receipts if r.module == spec.code)
        for handler in spec.outage_handlers:
            try:
                with transaction.atomic():
                    receipt = handler(outage=replace(outage, receipts=own))
            except KentCBSError as exc:
                logging.getLogger(__name__).warning(
                    "module %s: outage %s (%s) not handled: [%s] %s", spec.code, outage.key,
                    outage.event, exc.code, exc.english)
                continue
            if receipt is not None:
                receipts.append(replace(receipt, module=spec.code))
    return receipts


def dashboard_figures(*, user: Any) -> list[DashboardFigure]:
    """The dashboard figures every module produces for ``user`` (in module order)."""
    result: list[DashboardFigure] = []
    for spec in discover():
        for producer in spec.dashboard_figures:
            result.extend(producer(user=user))
    return result


def report_figures(*, user: Any, year: int) -> list[ReportTable]:
    """The activity report tables every module produces for ``year`` (in module order)."""
    result: list[ReportTable] = []
    for spec in discover():
        for producer in spec.report_figures:
            result.extend(producer(user=user, year=year))
    return result


def guard_page(view: Callable[..., Any], url_name: str,
               requirements: list[frozenset[str]]) -> Callable[..., Any]:
    """``view`` served only to signed-in users holding the declared roles.

    Anonymous callers go to the sign-in page; signed-in users without a declared
    role get 403 (``PermissionDenied``), whatever the view itself checks.
    """
    import functools

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    from gis_core.selectors import user_access

    if getattr(view, "kentcbs_machine_endpoint", None):
        return view  # authenticates its caller by token itself (machine_endpoint)

    @functools.wraps(view)
    def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
        access = user_access(request.user)
        if not access.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not _allowed(access, requirements):
            raise PermissionDenied(url_name)
        return view(request, *args, **kwargs)

    guarded.kentcbs_page_guard = (url_name, tuple(requirements))  # type: ignore[attr-defined]
    return guarded


def machine_endpoint(token_setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A module page called by another system (a monitoring webhook), not by a person.

    It takes no session: the caller sends ``Authorization: Bearer <token>`` with the
    token in ``settings.<token_setting>``. No token configured: 404 (the endpoint is off);
    a missing or wrong token: 401. Only POST is accepted; CSRF does not apply (no cookie
    is read). :func:`guard_page` leaves such a view to its own check.
    """
    import functools
    import hmac

    from django.conf import settings
    from django.http import JsonResponse
    from django.views.decorators.csrf import csrf_exempt

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @csrf_exempt
        @functools.wraps(view)
        def endpoint(request: Any, *args: Any, **kwargs: Any) -> Any:
            expected = str(getattr(settings, token_setting, "") or "")
            if not expected:  # the endpoint is off: as if it were not there
                return JsonResponse({"error": f"{token_setting} is not set: this hook is off"},
                                    status=404)
            sent = request.headers.get("Authorization", "")
            token = sent[7:] if sent.startswith("Bearer ") else ""
            if not hmac.compare_digest(token.encode(), expected.encode()):
                response = JsonResponse({"error": "wrong or missing token"}, status=401)
                response["WWW-Authenticate"] = "Bearer"
                return response
            if request.method != "POST":
                return JsonResponse({"error": "POST only"}, status=405)
            return view(request, *args, **kwargs)

        endpoint.kentcbs_machine_endpoint = token_setting  # type: ignore[attr-defined]
        return endpoint

    return wrap


def _guarded_patterns(patterns: Sequence[Any], prefix: str,
                      needs: dict[str, list[frozenset[str]]], seen: set[str]) -> list[Any]:
    from django.urls import URLPattern, URLResolver

    out: list[Any] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            inner = _guarded_patterns(entry.url_patterns, namespace, needs, seen)
            out.append(URLResolver(entry.pattern, inner, entry.default_kwargs,
                                   entry.app_name, entry.namespace))
        elif isinstance(entry, URLPattern):
            name = f"{prefix}{entry.name}" if entry.name else ""
            if name:
                seen.add(name)
            out.append(URLPattern(entry.pattern, guard_page(entry.callback, name,
                                                            needs.get(name, [])),
                                  entry.default_args, entry.name))
        else:  # pragma: no cover - Django has no third kind
            raise TypeError(f"unexpected URL entry {entry!r}")
    return out


def module_urls(spec: ModuleSpec) -> Any:
    """``/<code>/`` include of one module, every page wrapped by :func:`guard_page`.

    A menu item or permission that names a page the module does not have raises
    ``ImproperlyConfigured``: a typo must not leave a page unguarded.
    """
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import include, path

    urlconf = importlib.import_module(str(spec.urls))
    app_name = getattr(urlconf, "app_name", None) or spec.code
    needs = page_requirements(spec)
    seen: set[str] = set()
    patterns = _guarded_patterns(urlconf.urlpatterns, f"{app_name}:", needs, seen)
    unknown = sorted(name for name in needs if name not in seen)
    if unknown:
        raise ImproperlyConfigured(
            f"module {spec.code}: menu items or permissions name pages it does not have: "
            f"{', '.join(unknown)}")
    return path(f"{spec.code}/", include((patterns, app_name)))


def module_urlpatterns() -> list[Any]:
    """``/<code>/`` URL includes of every module that declares ``urls`` (for gis_core.urls).

    Every page is served through :func:`guard_page`: signed-in users only, and the
    roles the module declares for it (menu items, permissions' ``pages``).
    """
    return [module_urls(spec) for spec in discover() if spec.urls]


def load_module_demos(*, profile: str) -> dict[str, Any]:
    """Run every module's demo hook (after the core demo); returns their counts by module."""
    return {spec.code: spec.demo(profile=profile) for spec in discover() if spec.demo}
