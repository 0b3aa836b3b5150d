"""A4 PDFs of the Taşınır Mal Yönetmeliği paperwork (reportlab, embedded DejaVu fonts).

The fonts come from Debian's ``fonts-dejavu-core`` (a system package of bootstrap.sh);
they are embedded in every PDF so Turkish letters (ç ğ ı İ ö ş ü) print anywhere.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from modules.registers.errors import RegistersError

FONT_DIR = Path(getattr(settings, "KENTCBS_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name in (FONT, FONT_BOLD):
        path = FONT_DIR / f"{name}.ttf"
        if not path.is_file():
            raise RegistersError(
                "REGISTERS_FONT_MISSING",
                "The PDF font {path} is missing: install the fonts-dejavu-core package "
                "(./bootstrap.sh installs it).", path=str(path))
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # Paragraphs look fonts up by family (normal/bold); both faces are embedded subsets.
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)
    pdfmetrics.registerFontFamily(FONT_BOLD, normal=FONT_BOLD, bold=FONT_BOLD,
                                  italic=FONT_BOLD, boldItalic=FONT_BOLD)


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    _register_fonts()  # paragraphs resolve their font when they are made
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=13, leading=16,
                                alignment=1, spaceAfter=6),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=8, leading=10),
        "text": ParagraphStyle("text", fontName=FONT, fontSize=9, leading=12),
    }


def _p(text: object, style: Any) -> Any:
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)), style)


def _grid(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e5e5")))
    table.setStyle(TableStyle(commands))
    return table


def build_pdf(story_parts: Iterable[list[Any]], *, title: str) -> bytes:
    """One A4 document; each part starts on a new page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    _register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=title,
                            author="KentCBS")
    story: list[Any] = []
    for part in story_parts:
        if story:
            story.append(PageBreak())
        story.extend(part)
    doc.build(story)
    return buffer.getvalue()


def signature_block(roles: Sequence[str]) -> Any:
    """Signature lines: one column per role (name, date, signature)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    styles = _styles()
    width = 180 * mm / len(roles)
    rows = [[_p(role, styles["head"]) for role in roles],
            [_p("Adı Soyadı: ....................", styles["cell"]) for _ in roles],
            [_p("Tarih: ..../..../........", styles["cell"]) for _ in roles],
            [_p("İmza: ....................", styles["cell"]) for _ in roles]]
    table = Table(rows, colWidths=[width] * len(roles))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 1), (-1, -1), 8)]))
    return table


def municipality_name() -> str:
    from gis_core.models import Municipality

    municipality = Municipality.current()
    if municipality is not None:
        return municipality.name
    from gis_core.profiles import get_profile

    return get_profile(settings.KENTCBS_PROFILE).name
