"""Rooms get the department that uses them (issue 17: floors and rooms, department)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("gis_core", "0003_departments")]

    operations = [
        migrations.AddField(
            model_name="historicalroom",
            name="department",
            field=models.ForeignKey(
                blank=True, db_constraint=False, null=True,
                on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                to="gis_core.department", verbose_name="birim / department"),
        ),
        migrations.AddField(
            model_name="room",
            name="department",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="rooms", to="gis_core.department",
                verbose_name="birim / department"),
        ),
    ]
