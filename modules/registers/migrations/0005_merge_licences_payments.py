"""Merge of the two register migrations written in parallel (licences and line payments)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0004_licences_domains_esign"),
        ("registers", "0004_line_payments"),
    ]

    operations: list[migrations.operations.base.Operation] = []
