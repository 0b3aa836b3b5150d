"""The 5651 records become append-only (triggers and revoked privileges: modules/netops/sql.py)."""

from django.db import migrations

from modules.netops import sql


class Migration(migrations.Migration):
    dependencies = [("netops", "0001_initial")]

    operations = [
        migrations.RunSQL(sql=sql.forward(), reverse_sql=sql.backward()),
    ]
