"""Data-quality scores page ("veri kalite karnesi", issue 18 §5) over
:func:`etl.selectors.quality_scores`: a trend chart per department and layer (the share of
features accepted, month by month), the rules that fail most, the table the charts draw,
and the same as an XLSX workbook.

The GIS unit (its members and the GIS administrators) and managers see every department;
anyone else sees the departments they are a member of (their own report card). Layers are
those the user may read (the selector's own rule). Charts are server-rendered SVG
(:mod:`web.charts`, as on the dashboard): nothing is fetched.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from etl.selectors import QualityScore, RuleScore, failing_rules, quality_scores
from gis_core.selectors import user_access
from layers.access import is_gis_admin

#: Rules shown per row of the table (all of them are in the XLSX).
TOP_RULES = 5
#: Rules in the "fail most" list and chart.
FAILING_RULES = 10
#: What a department code looks like (a filter that is not one is ignored).
DEPARTMENT_CODE = re.compile(r"[a-z0-9_]{1,60}")
#: The GIS unit's department code: its members see every department's scores.
GIS_UNIT = "cbs"


def sees_every_department(user: Any) -> bool:
    """GIS administrators, the GIS unit's members and managers (the menu entry's readers)."""
    access = user_access(user)
    return (is_gis_admin(user) or "manager" in access.roles
            or GIS_UNIT in {code for code, _role in access.memberships})


def _visible(user: Any, scores: list[QualityScore]) -> list[QualityScore]:
    if sees_every_department(user):
        return scores
    own = {code for code, _role in user_access(user).memberships}
    return [score for score in scores if score.department in own]


def _xlsx(scores: list[QualityScore], rules: list[RuleScore],
          names: dict[str, str]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "kalite"
    codes = sorted({code for score in scores for code in score.problems})
    sheet.append([_("Month"), _("Department"), _("Layer"), _("Uploads"), _("Features"),
                  _("Accepted"), _("Share accepted"),
                  *(f"{code} / 1000" for code in codes)])
    for score in scores:
        per = score.per_thousand
        sheet.append([score.month.strftime("%Y-%m"), score.department, score.layer,
                      score.batches, score.features, score.accepted, score.share_accepted,
                      *(round(per.get(code, 0.0), 3) for code in codes)])
    ranked = book.create_sheet("kurallar")
    ranked.append([_("Rule"), _("Problems"), _("Problems per 1,000 features")])
    for rule in rules:
        ranked.append([rule.code, rule.problems, round(rule.per_thousand, 3)])
    departments = book.create_sheet("birimler")
    departments.append([_("Department"), _("Name")])
    for code in sorted({score.department for score in scores}):
        departments.append([code, names.get(code, code)])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = 'attachment; filename="kentcbs-veri-kalitesi.xlsx"'
    return response


def _trends(scores: list[QualityScore], *, names: dict[str, str],
            titles: dict[str, str]) -> list[dict[str, Any]]:
    """One chart per department and layer: the share accepted (%) per month."""
    from web.charts import column_chart

    series: dict[tuple[str, str], list[QualityScore]] = {}
    for score in scores:  # oldest month first
        if score.share_accepted is not None:
            series.setdefault((score.department, score.layer), []).append(score)
    out = []
    for (department, layer), months in sorted(series.items()):
        link = reverse("web:report_list") + "?" + urlencode(
            {"layer": layer, "department": department})
        title = _("%(department)s · %(layer)s: share of features accepted (%%)") % {
            "department": names.get(department, department), "layer": titles.get(layer, layer)}
        rows = [(score.month.strftime("%Y-%m"), round(100 * (score.share_accepted or 0.0), 1),
                 link) for score in months]
        out.append({"department": department, "layer": layer, "title": title,
                    "svg": column_chart(rows, title=title,
                                        width=max(220, 60 * len(rows) + 20))})
    return out


@login_required
@require_GET
def quality(request: HttpRequest) -> HttpResponse:
    """The scores, filtered by ``department`` and ``layer``; ``?format=xlsx`` to download."""
    from gis_core.labels import department_labels
    from layers.access import readable_layers
    from web.charts import bar_chart

    layers = {item.code: str(item.title.text()) for item in readable_layers(request.user)}
    department = request.GET.get("department", "").strip() or None
    if department is not None and not DEPARTMENT_CODE.fullmatch(department):
        department = None  # not a department code: no such department, no filter
    layer = request.GET.get("layer", "").strip() or None
    if layer not in layers:
        layer = None
    everything = _visible(request.user, quality_scores(user=request.user))
    scores = [score for score in everything
              if (department is None or score.department == department)
              and (layer is None or score.layer == layer)]
    names = department_labels({score.department for score in everything})
    rules = failing_rules(scores, limit=FAILING_RULES)
    if request.GET.get("format") == "xlsx":
        return _xlsx(scores, failing_rules(scores), names)
    rows = [{"score": score, "department_name": names.get(score.department, score.department),
             "layer_title": layers.get(score.layer, score.layer),
             "share": (None if score.share_accepted is None
                       else round(100 * score.share_accepted, 1)),
             "rules": [(code, round(value, 1))
                       for code, value in list(score.per_thousand.items())[:TOP_RULES]]}
            for score in scores]
    own = sorted({code for code, _role in user_access(request.user).memberships})
    card = department or (own[0] if len(own) == 1 and not sees_every_department(request.user)
                          else None)
    return render(request, "web/reports/quality.html", {
        "rows": rows, "department": department or "", "layer": layer or "",
        "departments": sorted(names.items(), key=lambda kv: kv[1]),
        "layers": sorted(layers.items(), key=lambda kv: kv[1]),
        "card": names.get(card, card) if card else "",
        "trends": _trends(scores, names=names, titles=layers),
        "rules": [{"rule": rule, "per_thousand": round(rule.per_thousand, 1)}
                  for rule in rules],
        "rules_chart": bar_chart(
            [(rule.code, round(rule.per_thousand, 1),
              reverse("web:report_list") + (f"?layer={layer}" if layer else ""))
             for rule in rules], title=_("Problems per 1,000 features, by rule"),
            colour="#b71c1c") if rules else "",
        "xlsx_query": urlencode({k: v for k, v in (("department", department or ""),
                                                    ("layer", layer or ""),
                                                    ("format", "xlsx")) if v}),
    })
