"""The departments every municipality has, and one auth Group per role."""

from django.db import migrations

DEPARTMENTS = [
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


def create(apps, schema_editor):
    department = apps.get_model("gis_core", "Department")
    group = apps.get_model("auth", "Group")
    by_code = {}
    for code, name, name_en, parent in DEPARTMENTS:
        obj, _ = department.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en,
                                 "kind": "unit" if parent else "directorate",
                                 "parent": by_code.get(parent)})
        by_code[code] = obj
    for role in ROLES:
        group.objects.get_or_create(name=f"kentcbs:{role}")


class Migration(migrations.Migration):
    dependencies = [("gis_core", "0002_spatial_rules"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
