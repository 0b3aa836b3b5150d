"""Forms of the licence, domain, certificate and e-signature pages (Django model forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from modules.registers.models import Domain, ESignatureCard, SoftwareLicence, TlsCertificate

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _departments(form: forms.ModelForm) -> None:
    from gis_core.models import Department

    field = form.fields.get("department")
    if isinstance(field, forms.ModelChoiceField):
        field.queryset = Department.objects.filter(is_active=True).order_by("name")


class LicenceForm(forms.ModelForm):
    class Meta:
        model = SoftwareLicence
        fields = ["product", "vendor", "seats", "starts_on", "ends_on", "department",
                  "contract", "note"]
        widgets = {"starts_on": DATE, "ends_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _departments(self)

    def clean_seats(self) -> int:
        seats = int(self.cleaned_data["seats"])
        if self.instance.pk:
            in_use = self.instance.assignments.count()
            if seats < in_use:
                raise forms.ValidationError(
                    _("%(in_use)s seats are in use; the seats cannot be fewer."),
                    params={"in_use": in_use}, code="seats_in_use")
        return seats


class AssignForm(forms.Form):
    asset = forms.CharField(label=_("Device inventory number"),
                            max_length=40, required=False)
    username = forms.CharField(label=_("User name"), max_length=150,
                               required=False)


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["name", "registrar", "expires_on", "hosting_provider", "hosting_expires_on",
                  "department", "note"]
        widgets = {"expires_on": DATE, "hosting_expires_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _departments(self)


class CertificateForm(forms.ModelForm):
    pem = forms.FileField(label=_("Certificate file (PEM/DER; fills the fields)"),
                          required=False)

    class Meta:
        model = TlsCertificate
        fields = ["common_name", "domain", "issuer", "serial", "expires_on", "department",
                  "note"]
        widgets = {"expires_on": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _departments(self)
        for name in ("common_name", "issuer", "expires_on"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        from modules.registers.certificates import read_pem
        from modules.registers.errors import RegistersError

        data = super().clean()
        upload = data.get("pem")
        if upload:
            try:
                data.update(read_pem(upload.read(1_000_000)))
            except RegistersError as error:
                self.add_error("pem", error.localized)
        for name in ("common_name", "issuer", "expires_on"):
            if not data.get(name):
                self.add_error(name, _("Required (or upload the certificate file)."))
        return data


class ESignatureForm(forms.ModelForm):
    class Meta:
        model = ESignatureCard
        fields = ["kind", "holder_name", "kep_address", "serial", "issuer", "issued_on",
                  "expires_on", "revoked_on", "department"]
        widgets = {"issued_on": DATE, "expires_on": DATE, "revoked_on": DATE}

    def __init__(self, *args: Any, show_holder: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _departments(self)
        if not show_holder:  # personal data: not even in the form's initial values
            del self.fields["holder_name"]
            del self.fields["kep_address"]
