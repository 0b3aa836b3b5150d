"""Helpdesk forms (English msgids, Turkish in locale/tr)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from modules.helpdesk.choices import (
    RepairKindChoices,
    TicketCategoryChoices,
    TicketOutcomeChoices,
    TicketPriorityChoices,
    WaitingReasonChoices,
)


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=TicketCategoryChoices.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriorityChoices.choices,
                                 initial=TicketPriorityChoices.NORMAL)
    title = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    inventory_number = forms.CharField(
        label=_("Inventory number"), required=False, max_length=50,
        help_text=_("Required for a hardware fault: the inventory label on the device."))
    building = forms.IntegerField(widget=forms.HiddenInput, required=False)
    room = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in (
        "assign", "start", "wait", "vendor", "vendor_return", "resolve", "close", "reopen",
        "comment", "log_time")])
    technician = forms.IntegerField(required=False)
    reason = forms.ChoiceField(required=False, choices=WaitingReasonChoices.choices)
    kind = forms.ChoiceField(required=False, choices=RepairKindChoices.choices)
    vendor_name = forms.CharField(required=False, max_length=200)
    cost = forms.DecimalField(required=False, max_digits=12, decimal_places=2)
    outcome = forms.ChoiceField(required=False, choices=TicketOutcomeChoices.choices)
    text = forms.CharField(required=False, widget=forms.Textarea)
    minutes = forms.IntegerField(required=False, min_value=1)
