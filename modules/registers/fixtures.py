"""Room fixture lists (Dayanıklı Taşınırlar Listesi, Taşınır Mal Yönetmeliği) as A4 PDF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modules.registers.pdf import _grid, _p, _styles, build_pdf, municipality_name, signature_block
from modules.registers.selectors import fixture_assets, room_departments

SIGNERS = ("Oda Sorumlusu", "Taşınır Kayıt Yetkilisi", "Harcama Yetkilisi")


def _floor_label(room: Any) -> str:
    if room.floor is None:
        return "-"
    return room.floor.name or f"{room.floor.number}. kat"


def room_story(room: Any) -> list[Any]:
    """The flowables of one room's list: header, the assets, the signature lines."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    styles = _styles()
    units = ", ".join(d.name for d in room_departments(room=room)) or "-"
    header = [
        [_p("Belediye", styles["head"]), _p(municipality_name(), styles["cell"]),
         _p("Harcama birimi", styles["head"]), _p(units, styles["cell"])],
        [_p("Bina", styles["head"]), _p(f"{room.building.name} ({room.building.code})",
                                        styles["cell"]),
         _p("Kat", styles["head"]), _p(_floor_label(room), styles["cell"])],
        [_p("Oda", styles["head"]), _p(str(room), styles["cell"]),
         _p("Oda kodu", styles["head"]), _p(room.code, styles["cell"])],
    ]
    rows: list[list[Any]] = [[_p(h, styles["head"]) for h in (
        "Sıra No", "Taşınır Kodu", "Sicil No", "Taşınırın Adı", "Marka", "Model", "Miktarı")]]
    assets = list(fixture_assets(room=room))
    for number, asset in enumerate(assets, start=1):
        rows.append([_p(number, styles["cell"]), _p(asset.tasinir_code or "-", styles["cell"]),
                     _p(asset.inventory_number, styles["cell"]),
                     _p(asset.get_category_display().split(" / ")[0], styles["cell"]),
                     _p(asset.brand or "-", styles["cell"]), _p(asset.model or "-",
                                                                 styles["cell"]),
                     _p("1 Adet", styles["cell"])])
    if not assets:
        rows.append([_p("", styles["cell"]), _p("", styles["cell"]),
                     _p("", styles["cell"]), _p("Bu odada kayıtlı taşınır yok.", styles["cell"]),
                     _p("", styles["cell"]), _p("", styles["cell"]), _p("", styles["cell"])])
    return [
        _p("DAYANIKLI TAŞINIRLAR LİSTESİ", styles["title"]),
        _grid(header, [30 * mm, 60 * mm, 30 * mm, 60 * mm], header=False),
        Spacer(1, 5 * mm),
        _grid(rows, [14 * mm, 30 * mm, 26 * mm, 40 * mm, 24 * mm, 30 * mm, 16 * mm]),
        Spacer(1, 4 * mm),
        _p(f"Toplam: {len(assets)} kalem. Bu listede kayıtlı taşınırlar odada bulunmaktadır.",
           styles["text"]),
        Spacer(1, 8 * mm),
        signature_block(SIGNERS),
    ]


def fixtures_pdf(rooms: Sequence[Any], *, title: str) -> bytes:
    """One A4 PDF with a page (or more) per room."""
    return build_pdf([room_story(room) for room in rooms], title=title)
