"""The yearly activity report figures (faaliyet raporu, §5 of issue #21).

Every section is a :class:`gis_core.modules.ReportTable`, so the page, the XLSX and the PDF
render the same rows. Sources:

- the core's register: assets by category, status and age at the year's end (the assets'
  history, ``Asset.history.as_of``), acquired (purchase date in the year) and scrapped
  (a history step into ``scrapped`` in the year);
- this module: consumables issued, line payments made;
- the ETL's batches: uploads per department and their data-quality score
  (``etl.selectors.quality_scores``);
- licences and certificates renewed: the producers named in :data:`RENEWAL_PRODUCERS`
  (the licence and certificate registers add theirs there);
- other modules (helpdesk tickets with SLA compliance, netops uptime ...): their
  ``ModuleSpec.report_figures`` (:func:`gis_core.modules.report_figures`), never imported.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from gis_core.modules import ReportTable

#: Dotted paths of ``producer(*, year) -> list[tuple[kind, name, renewed_on, valid_until]]``
#: giving the licences, domains, certificates and e-signature cards renewed in ``year``.
#: See :mod:`modules.registers.renewals` for what counts as a renewal.
RENEWAL_PRODUCERS: tuple[str, ...] = (
    "modules.registers.renewals.licences",
    "modules.registers.renewals.domains",
    "modules.registers.renewals.esign_cards",
)

#: Age bands of the assets (years since the purchase date, at the year's end).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1 yıl", 0, 1), ("1-3 yıl", 1, 3), ("3-5 yıl", 3, 5), ("5-10 yıl", 5, 10),
    ("10+ yıl", 10, None))
AGE_UNKNOWN = "Alım tarihi yok"


@dataclass(frozen=True)
class ActivityReport:
    year: int
    #: The day the figures are taken at: 31 December, or today for the running year.
    as_of: dt.date
    tables: tuple[ReportTable, ...]

    def table(self, code: str) -> ReportTable:
        return next(t for t in self.tables if t.code == code)


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    return start, timezone.make_aware(dt.datetime(year + 1, 1, 1))


def _labels(choices: Any) -> dict[str, str]:
    return {value: str(label).split(" / ")[0] for value, label in choices}


def age_band(purchased: dt.date | None, on: dt.date) -> str:
    """The age band of an asset bought on ``purchased``, counted on ``on`` (whole years).

    Examples
    --------
    >>> age_band(dt.date(2024, 6, 1), dt.date(2026, 12, 31))
    '1-3 yıl'
    """
    if purchased is None:
        return AGE_UNKNOWN
    years = on.year - purchased.year - ((on.month, on.day) < (purchased.month, purchased.day))
    for label, low, high in AGE_BANDS:
        if years >= low and (high is None or years < high):
            return label
    return AGE_BANDS[0][0]  # bought after ``on`` (a wrong date): the youngest band


def asset_tables(year: int, as_of: dt.date) -> list[ReportTable]:
    from gis_core.choices import AssetCategoryChoices, AssetStatusChoices
    from gis_core.models import Asset

    categories, statuses = _labels(AssetCategoryChoices.choices), _labels(
        AssetStatusChoices.choices)
    moment = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    assets = list(Asset.history.as_of(moment))
    by_category = Counter(a.category for a in assets)
    by_status = Counter(a.status for a in assets)
    band_order = [label for label, _low, _high in AGE_BANDS] + [AGE_UNKNOWN]
    by_age = Counter(age_band(a.purchase_date, as_of) for a in assets if a.status != "scrapped")
    start, end = _year_bounds(year)
    acquired = Counter(Asset.objects.filter(purchase_date__year=year)
                       .values_list("category", flat=True))
    scrapped: Counter[str] = Counter()
    steps = (Asset.history.filter(status="scrapped", history_date__gte=start,
                                  history_date__lt=end).order_by("history_date"))
    seen: set[int] = set()
    for step in steps:
        before = step.prev_record
        # a step into "scrapped" (an asset registered as scrapped was not scrapped then)
        if step.id not in seen and before is not None and before.status != "scrapped":
            seen.add(step.id)
            scrapped[step.category] += 1
    return [
        ReportTable("assets_by_category", "Kategoriye göre BT varlıkları",
                    "IT assets by category", ("Kategori", "Adet"),
                    tuple((categories.get(k, k), n) for k, n in sorted(by_category.items())),
                    note_tr=f"{as_of:%d.%m.%Y} itibarıyla kayıtlı varlıklar (hurdalar dahil)."),
        ReportTable("assets_by_status", "Duruma göre BT varlıkları", "IT assets by status",
                    ("Durum", "Adet"),
                    tuple((statuses.get(k, k), n) for k, n in sorted(by_status.items()))),
        ReportTable("assets_by_age", "Yaşa göre BT varlıkları (hurdalar hariç)",
                    "IT assets by age (scrapped excluded)", ("Yaş", "Adet"),
                    tuple((band, by_age[band]) for band in band_order if by_age[band])),
        ReportTable("assets_acquired_scrapped", f"{year} yılında edinilen ve hurdaya ayrılan",
                    f"Acquired and scrapped in {year}", ("Kategori", "Edinilen", "Hurdaya ayrılan"),
                    tuple((categories.get(k, k), acquired[k], scrapped[k])
                          for k in sorted(set(acquired) | set(scrapped)))),
    ]


def consumable_tables(year: int) -> list[ReportTable]:
    from modules.registers.models import StockMovement

    start, end = _year_bounds(year)
    issues = StockMovement.objects.filter(kind="issue", at__gte=start, at__lt=end)
    by_item = (issues.values("item__name", "item__unit").annotate(q=Sum("quantity"),
                                                                 n=Count("id"))
               .order_by("item__name"))
    by_department = (issues.values("department__name").annotate(q=Sum("quantity"))
                     .order_by("department__name"))
    return [
        ReportTable("consumables_issued", "Verilen sarf malzemesi", "Consumables issued",
                    ("Malzeme", "Birim", "Miktar", "Çıkış sayısı"),
                    tuple((r["item__name"], r["item__unit"], r["q"], r["n"]) for r in by_item)),
        ReportTable("consumables_by_department", "Birimlere verilen sarf malzemesi",
                    "Consumables issued to departments", ("Birim", "Miktar"),
                    tuple((r["department__name"] or "Oda veya cihaza", r["q"])
                          for r in by_department)),
    ]


def line_payment_table(year: int) -> ReportTable:
    from modules.registers.models import LineBilling, LinePayment

    payers = {b.subscription_id: b.paying_department for b in LineBilling.objects.select_related(
        "paying_department")}
    totals: dict[str, list[Decimal]] = defaultdict(list)
    for payment in LinePayment.objects.filter(paid_on__year=year):
        department = payers.get(payment.subscription_id)
        totals[department.name if department else "—"].append(payment.amount)
    return ReportTable("line_payments", "Hat ödemeleri", "Line payments",
                       ("Ödeyen birim", "Ödeme sayısı", "Tutar (TL)"),
                       tuple((name, len(amounts), sum(amounts, Decimal("0.00")))
                             for name, amounts in sorted(totals.items())))


def renewal_table(year: int) -> ReportTable:
    rows: list[tuple[Any, ...]] = []
    for dotted in RENEWAL_PRODUCERS:
        module_name, _, name = dotted.rpartition(".")
        producer: Callable[..., Any] = getattr(importlib.import_module(module_name), name)
        rows.extend(tuple(row) for row in producer(year=year))
    note = "" if RENEWAL_PRODUCERS else "Lisans ve sertifika kayıtları bu rapora henüz bağlanmadı."
    return ReportTable("renewals", "Yenilenen lisans, alan adı ve sertifikalar",
                       "Licences, domains and certificates renewed",
                       ("Tür", "Ad", "Yenilendiği tarih", "Geçerlilik sonu"),
                       tuple(sorted(rows, key=lambda r: (str(r[2]), str(r[1])))), note_tr=note,
                       note_en="" if RENEWAL_PRODUCERS else "The licence and certificate "
                       "registers are not wired into this report yet.")


def upload_table(year: int, *, user: Any) -> ReportTable:
    from etl.models import Batch, BatchPolicyChoices
    from etl.selectors import quality_scores
    from gis_core.models import Department

    start, end = _year_bounds(year)
    names = dict(Department.objects.values_list("code", "name"))
    uploads = Counter(Batch.objects.filter(created__gte=start, created__lt=end)
                      .exclude(policy__in=[BatchPolicyChoices.UNDO, BatchPolicyChoices.DRY_RUN])
                      .values_list("department", flat=True))
    read: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    for score in quality_scores(user=user, since=dt.date(year, 1, 1),
                                until=dt.date(year + 1, 1, 1)):
        read[score.department] += score.features
        accepted[score.department] += score.accepted
    rows = []
    for code in sorted(set(uploads) | set(read), key=lambda c: names.get(c, c)):
        share = round(100.0 * accepted[code] / read[code], 1) if read[code] else None
        rows.append((names.get(code, code), uploads[code], read[code], accepted[code],
                     "—" if share is None else share))
    return ReportTable("uploads_quality", "Veri yüklemeleri ve veri kalitesi",
                       "Uploads and data quality", ("Birim", "Yükleme", "Okunan kayıt",
                                                    "Kabul edilen", "Kabul oranı (%)"),
                       tuple(rows),
                       note_tr="Kabul oranı: doğrulanan yüklemelerde kabul edilen kayıtların "
                               "okunanlara oranı (deneme ve geri alma yüklemeleri hariç).")


def activity_report(*, user: Any, year: int, today: dt.date | None = None) -> ActivityReport:
    """Every figure of ``year``'s activity report, for ``user`` (a manager or GIS admin).

    The tables are the municipality's (Turkish) activity report: their rows are made in
    Turkish whatever the reader's language (labels of choices, renewal kinds ...)."""
    from django.utils import translation

    from gis_core.modules import report_figures

    today = today or timezone.localdate()
    as_of = min(dt.date(year, 12, 31), today)
    with translation.override("tr"):
        tables = [*asset_tables(year, as_of), *consumable_tables(year),
                  line_payment_table(year), renewal_table(year), upload_table(year, user=user),
                  *report_figures(user=user, year=year)]
    return ActivityReport(year=year, as_of=as_of, tables=tuple(tables))


# -- files ----------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def report_xlsx(report: ActivityReport) -> bytes:
    """One workbook: a contents sheet, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    contents = book.active
    assert contents is not None
    contents.title = "İçindekiler"
    contents.append([f"{report.year} Faaliyet Raporu Verileri"])
    contents["A1"].font = Font(bold=True)
    contents.append(["Tarih itibarıyla", report.as_of])
    for table in report.tables:
        contents.append([table.title_tr, table.title_en])
        sheet = book.create_sheet(table.code[:31])
        sheet.append([table.title_tr])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.columns))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        if table.note_tr:
            sheet.append([])
            sheet.append([table.note_tr])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_pdf(report: ActivityReport) -> bytes:
    """An A4 PDF: every table with its title (embedded DejaVu fonts, as the other papers)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from modules.registers.pdf import _grid, _p, _styles, build_pdf, municipality_name

    styles = _styles()
    story: list[Any] = [
        _p(f"{municipality_name()} · {report.year} FAALİYET RAPORU VERİLERİ", styles["title"]),
        _p(f"Bilgi İşlem Müdürlüğü · {report.as_of:%d.%m.%Y} itibarıyla", styles["text"]),
        Spacer(1, 4 * mm)]
    for table in report.tables:
        story.append(_p(table.title_tr, styles["head"]))
        # the first column (a name) gets 40 %, the figures share the rest
        rest = len(table.columns) - 1
        widths = [180 * mm] if not rest else [72 * mm] + [108 * mm / rest] * rest
        rows = [[_p(h, styles["head"]) for h in table.columns]]
        rows += [[_p(v, styles["cell"]) for v in row] for row in table.rows]
        if not table.rows:
            rows.append([_p("Kayıt yok", styles["cell"])]
                        + [_p("", styles["cell"])] * (len(table.columns) - 1))
        story.append(_grid(rows, widths))
        if table.note_tr:
            story.append(_p(table.note_tr, styles["cell"]))
        story.append(Spacer(1, 5 * mm))
    return build_pdf([story], title=f"Faaliyet raporu {report.year}")
