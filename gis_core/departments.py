"""The departments every municipality has (müdürlükler and the IT units of its regulation)."""

from __future__ import annotations

from typing import Any

DEPARTMENTS: list[tuple[str, str, str, str | None]] = [
    # code, Turkish name, English name, parent code
    ("bilgi_islem", "Bilgi İşlem Müdürlüğü", "IT Directorate", None),
    ("teknik_destek", "Teknik Destek Birimi", "Technical Support Unit", "bilgi_islem"),
    ("ag_yonetimi", "Ağ Yönetimi Birimi", "Network Management Unit", "bilgi_islem"),
    ("yazilim", "Yazılım Geliştirme ve Destek Birimi", "Software Development and Support Unit",
     "bilgi_islem"),
    ("cbs", "Coğrafi Bilgi Sistemi Birimi", "GIS Unit", "bilgi_islem"),
    ("idari_mali", "İdari ve Mali İşler Birimi", "Administrative and Financial Affairs Unit",
     "bilgi_islem"),
    ("fen_isleri", "Fen İşleri Müdürlüğü", "Directorate of Technical Works", None),
    ("imar_sehircilik", "İmar ve Şehircilik Müdürlüğü", "Directorate of Zoning and Urbanism",
     None),
    ("park_bahceler", "Park ve Bahçeler Müdürlüğü", "Directorate of Parks and Gardens", None),
    ("emlak_istimlak", "Emlak ve İstimlak Müdürlüğü",
     "Directorate of Real Estate and Expropriation", None),
    ("zabita", "Zabıta Müdürlüğü", "Municipal Police Directorate", None),
    ("temizlik_isleri", "Temizlik İşleri Müdürlüğü", "Directorate of Sanitation", None),
    ("destek_hizmetleri", "Destek Hizmetleri Müdürlüğü", "Directorate of Support Services",
     None),
    ("yazi_isleri", "Yazı İşleri Müdürlüğü", "Directorate of Correspondence", None),
    ("mali_hizmetler", "Mali Hizmetler Müdürlüğü", "Directorate of Financial Services", None),
    ("insan_kaynaklari", "İnsan Kaynakları ve Eğitim Müdürlüğü",
     "Directorate of Human Resources and Training", None),
    ("kultur_sosyal", "Kültür ve Sosyal İşler Müdürlüğü",
     "Directorate of Culture and Social Affairs", None),
]

ROLES = ["viewer", "data_entry", "gis_admin", "technician", "network_admin", "manager"]


def ensure_shipped_departments(*, department_model: Any = None, group_model: Any = None) -> None:
    """Create the shipped departments and one auth group per role; idempotent.

    Existing rows keep any local edits (names, activity); only missing ones are added.
    """
    if department_model is None:
        from django.contrib.auth.models import Group

        from gis_core.models import Department

        department_model, group_model = Department, Group
    by_code = {d.code: d for d in department_model.objects.filter(
        code__in=[row[0] for row in DEPARTMENTS])}
    for code, name, name_en, parent in DEPARTMENTS:
        if code not in by_code:
            by_code[code] = department_model.objects.create(
                code=code, name=name, name_en=name_en,
                kind="unit" if parent else "directorate", parent=by_code.get(parent))
    for role in ROLES:
        group_model.objects.get_or_create(name=f"kentcbs:{role}")
