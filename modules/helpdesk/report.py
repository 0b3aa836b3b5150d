"""The helpdesk's tables of the yearly activity report (``ModuleSpec.report_figures``)."""

from __future__ import annotations

from typing import Any

from gis_core.modules import ReportTable

COLUMNS = ("Talep", "Açık", "Çözülen", "SLA içinde çözülen", "SLA uyumu (%)")


def _rows(stats: list[Any]) -> tuple[tuple[Any, ...], ...]:
    return tuple((row.label, row.tickets, row.open, row.resolved, row.sla_met,
                  "—" if row.sla_compliance is None else row.sla_compliance) for row in stats)


def report_figures(*, user: Any, year: int) -> list[ReportTable]:
    """Tickets opened in ``year`` by category, responsible unit and month, with SLA compliance
    (resolved within the resolution due time over resolved), as the user may see them."""
    from modules.helpdesk.statistics import activity_report

    figures = activity_report(user=user, year=year)
    note = ("SLA uyumu: çözüm süresi içinde çözülen taleplerin çözülen taleplere oranı; "
            "talepler açıldıkları aya göre sayılır.")
    return [
        ReportTable("tickets_by_category", "Kategoriye göre destek talepleri",
                    "Helpdesk tickets by category", ("Kategori", *COLUMNS),
                    _rows(figures["by_category"]), note_tr=note),
        ReportTable("tickets_by_unit", "Sorumlu birime göre destek talepleri",
                    "Helpdesk tickets by responsible unit", ("Birim", *COLUMNS),
                    _rows(figures["by_unit"])),
        ReportTable("tickets_by_month", "Aylara göre destek talepleri",
                    "Helpdesk tickets by month", ("Ay", *COLUMNS), _rows(figures["by_month"])),
    ]
