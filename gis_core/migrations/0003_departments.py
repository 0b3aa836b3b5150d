"""The departments every municipality has, and one auth Group per role."""

from django.db import migrations

def create(apps, schema_editor):
    from gis_core.departments import ensure_shipped_departments

    ensure_shipped_departments(department_model=apps.get_model("gis_core", "Department"),
                               group_model=apps.get_model("auth", "Group"))


class Migration(migrations.Migration):
    dependencies = [("gis_core", "0002_spatial_rules"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
