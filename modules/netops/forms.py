from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class WhoisForm(forms.Form):
    ip = forms.GenericIPAddressField(label=_("IP address"))
    at = forms.DateTimeField(label=_("Date and time"),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                       format="%Y-%m-%dT%H:%M"))
    reason = forms.CharField(label=_("Reason (recorded)"), max_length=300,
                             help_text=_("A ticket number, an official letter or an incident; "
                                         "recorded as KVKK requires."))
