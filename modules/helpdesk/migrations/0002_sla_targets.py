"""Default SLA targets per priority (calendar minutes); operators change them in the admin."""

from django.db import migrations

DEFAULTS = {
    # priority: (first response, resolution)
    "critical": (30, 4 * 60),
    "high": (2 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}


def create_targets(apps, schema_editor):
    SlaTarget = apps.get_model("helpdesk", "SlaTarget")
    for priority, (response, resolution) in DEFAULTS.items():
        SlaTarget.objects.get_or_create(priority=priority, defaults={
            "response_minutes": response, "resolution_minutes": resolution})


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]
    operations = [migrations.RunPython(create_targets, migrations.RunPython.noop)]
