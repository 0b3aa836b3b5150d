from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class WhoisForm(forms.Form):
    ip = forms.GenericIPAddressField(label=_("IP adresi"))
    at = forms.DateTimeField(label=_("Tarih ve saat"),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Gerekçe (kayıt altına alınır)"), max_length=300,
                             help_text=_("Talep numarası, resmi yazı veya olay; KVKK gereği "
                                         "kaydedilir."))
