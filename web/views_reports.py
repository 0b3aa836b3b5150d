"""Validation report pages and the upload form (issue 6).

Every read goes through :mod:`web.reports` (and so :mod:`layers.access`): a batch
of a layer the user may not read is a 404, rejected features are shown only to
those who may see them, uploads are offered and accepted only for editable layers.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from etl.models import BatchStatusChoices
from etl.safety import warm_up
from gis_core.errors import InvalidParameter, KentCBSError
from gis_core.params import parse_id
from layers.access import readable_layers
from web import reports
from web.views_undo import undo_panel

#: Batches per page of the list.
BATCHES_PER_PAGE = 25
#: Room for the form fields around the file in a multipart body.
MULTIPART_OVERHEAD = 64 * 1024

POLICY_LABELS = {"normal": gettext_lazy("Normal"), "dry_run": gettext_lazy("Dry run"),
                 "strict": gettext_lazy("Strict"), "undo": gettext_lazy("Undo")}
CRS_PATTERN = re.compile(r"^EPSG:[0-9]{4,6}$", re.IGNORECASE)


def _title(layer: Any) -> str:
    return str(layer.title.text())


# -- the list and the detail -------------------------------------------------------------
@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    """ETL batches of the readable layers: filter by layer, status, department; paginated."""
    from gis_core.labels import department_labels

    layers = {layer.code: layer for layer in readable_layers(request.user)}
    batches = reports.visible_batches(user=request.user)
    chosen = {key: request.GET.get(key, "").strip() for key in ("layer", "status", "department")}
    if chosen["layer"] not in layers:
        chosen["layer"] = ""
    if chosen["status"] not in BatchStatusChoices.values:
        chosen["status"] = ""
    department_codes = sorted(set(batches.values_list("department", flat=True)))
    if chosen["department"] not in department_codes:
        chosen["department"] = ""
    names = department_labels(department_codes)
    page = Paginator(reports.filter_batches(batches, **chosen), BATCHES_PER_PAGE).get_page(
        request.GET.get("page"))
    rows = [{"batch": batch, "layer_title": _title(layers[batch.layer_code]),
             "department": names.get(batch.department, batch.department),
             "status_label": reports.STATUS_LABELS.get(batch.status, batch.status)}
            for batch in page.object_list]
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return render(request, "web/reports/list.html", {
        "page": page, "rows": rows, "chosen": chosen, "query": query,
        "layers": [(code, _title(layer)) for code, layer in layers.items()],
        "statuses": [(value, reports.STATUS_LABELS[value]) for value in BatchStatusChoices.values],
        "departments": [(code, names.get(code, code)) for code in department_codes],
    })


def _batch_or_404(request: HttpRequest, pk: int) -> tuple[Any, Any]:
    found = reports.visible_batch(user=request.user, pk=pk)
    if found is None:
        raise Http404
    return found


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One batch: summary, counts per rule and field, rejected features, error map."""
    batch, layer = _batch_or_404(request, pk)
    see = reports.may_see_rejected(user=request.user, batch=batch, layer=layer)
    data = reports.read_report(batch, with_problems=see)
    # the problem table's filters: only a rule or a field the report has is a filter
    rule_choices = sorted({str(p.get("code")) for p in data.problems if p.get("code")})
    field_choices = sorted({str(p.get("field")) for p in data.problems if p.get("field")})
    rule = request.GET.get("rule", "").strip()
    rule = rule if rule in rule_choices else ""
    field = request.GET.get("field", "").strip()
    field = field if field in field_choices else ""
    shown = [p for p in data.problems if (not rule or p.get("code") == rule)
             and (not field or p.get("field") == field)]
    problems = Paginator(shown, reports.PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    filter_query = urlencode({k: v for k, v in (("rule", rule), ("field", field)) if v})
    fmap = reports.error_map(batch) if see else None
    if see and data.problem_count:
        reports.record_rejected_read(user=request.user, batch=batch, layer=layer,
                                     path=request.get_full_path(), what="detail")
    return render(request, "web/reports/detail.html", {
        "batch": batch, "layer": layer, "layer_title": _title(layer), "see": see,
        "data": data, "problems": problems, "map": fmap,
        "rule": rule, "field": field, "rule_choices": rule_choices,
        "field_choices": field_choices, "filter_query": filter_query,
        "filtered_rows": len({p.get("row") for p in shown}),
        "status_label": reports.STATUS_LABELS.get(batch.status, batch.status),
        "policy_label": POLICY_LABELS.get(batch.policy, batch.policy),
        "refused": batch.status in (BatchStatusChoices.REFUSED, BatchStatusChoices.FAILED),
        "shift": reports.refused_shift(user=request.user, pk=batch.pk),
        "has_gpkg": see and reports.media_file(batch.report_gpkg) is not None,
        "map_name_json": json.dumps(fmap.map_name) if fmap is not None else "",
        "undo": undo_panel(user=request.user, batch=batch, layer=layer),
    })


@login_required
@require_GET
def report_rejected_gpkg(request: HttpRequest, pk: int) -> FileResponse:
    """The rejected features as a GeoPackage for QGIS (with error columns)."""
    batch, layer = _batch_or_404(request, pk)
    if not reports.may_see_rejected(user=request.user, batch=batch, layer=layer):
        raise PermissionDenied
    path = reports.media_file(batch.report_gpkg)
    if path is None:
        raise Http404
    reports.record_rejected_read(user=request.user, batch=batch, layer=layer,
                                 path=request.get_full_path(), what="gpkg")
    return FileResponse(open(path, "rb"), as_attachment=True,
                        filename=f"kentcbs-{batch.layer_code}-{batch.pk}-rejected.gpkg",
                        content_type="application/geopackage+sqlite3")


@login_required
@require_GET
def report_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The JSON report; without the problem rows for those who see counts only."""
    batch, layer = _batch_or_404(request, pk)
    see = reports.may_see_rejected(user=request.user, batch=batch, layer=layer)
    payload = reports.load_report_json(batch)
    if payload is None:
        raise Http404
    if not see:
        payload = reports.public_report(payload)
    elif payload.get("problems"):
        reports.record_rejected_read(user=request.user, batch=batch, layer=layer,
                                     path=request.get_full_path(), what="json")
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = (
        f'inline; filename="kentcbs-{batch.layer_code}-{batch.pk}-report.json"')
    return response


# -- the upload form -----------------------------------------------------------------------
class UploadForm(forms.Form):
    """Layer (editable only), file, optional CRS, dry run and strict policy."""

    layer = forms.ChoiceField(label=gettext_lazy("Layer"))
    file = forms.FileField(label=gettext_lazy("File"), help_text=gettext_lazy(
        "GeoPackage, zipped Shapefile, GeoJSON, CSV, KML, DXF, Excel (XLSX) or ODS"))
    crs = forms.CharField(label=gettext_lazy("Coordinate reference system"), required=False,
                          max_length=20, help_text=gettext_lazy(
                              "Only when the file has none, or to override it; e.g. EPSG:5254"))
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run: validate and report, load nothing"),
                                 required=False)
    strict = forms.BooleanField(label=gettext_lazy("Strict: any error rejects the whole file"),
                                required=False)

    def __init__(self, *args: Any, layers: list[Any],
                 shift: tuple[Any, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["layer"].choices = [(layer.code, f"{_title(layer)} ({layer.code})")
                                        for layer in layers]
        self.fields["crs"].widget.attrs["placeholder"] = "EPSG:5254"
        if shift is not None:
            # sending again a file refused for a systematic shift against the stored
            # features: the confirmation names that shift (and the refused batch)
            batch, metres = shift
            self.fields["shift"] = forms.IntegerField(widget=forms.HiddenInput,
                                                      initial=batch.pk, required=False)
            self.fields["accept_shift"] = forms.BooleanField(required=False, label=_(
                "The data sits %(metres)s m from the same features already stored "
                "(batch #%(batch)s, %(code)s). I confirm the shift: load it and move the "
                "stored features by %(metres)s m.") % {
                    "metres": metres, "batch": batch.pk, "code": batch.reason_code})

    def clean_crs(self) -> str:
        value = self.cleaned_data["crs"].strip()
        if value and not CRS_PATTERN.match(value):
            raise forms.ValidationError(_("Write the coordinate reference system as EPSG:code, "
                                          "e.g. EPSG:5254."))
        return value.upper()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > reports.upload_max_bytes():
            raise forms.ValidationError(too_large_message())
        return upload


def too_large_message() -> str:
    return _("The file is larger than the upload limit of %(limit)s. Split it, or ask the GIS "
             "unit to load it with the kentcbs ingest command.") % {
        "limit": filesizeformat(reports.upload_max_bytes())}


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an upload past the limit, so a huge file is never written to disk."""

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int,
                         boundary: Any, encoding: str | None = None) -> None:
        if content_length > self.max_bytes + MULTIPART_OVERHEAD:
            self.request.upload_too_large = True  # type: ignore[attr-defined]

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if getattr(self.request, "upload_too_large", False):
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self.request.upload_too_large = True  # type: ignore[attr-defined]
            # stop reading here: the rest of a chunked body is not drained either
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refuse_too_large(request: HttpRequest) -> HttpResponse:
    """413 for a body whose declared length is past the limit, before a byte of it is read."""
    layers = reports.upload_layers(user=request.user)
    return render(request, "web/reports/upload.html", {
        "max_size": reports.upload_max_bytes(), "layers": layers,
        "form": UploadForm(layers=layers), "too_large": too_large_message()}, status=413)


@csrf_exempt  # CSRF is checked in _upload, after the size limit is put in place
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The upload form (GET, POST) and the progress page of one job (``?job=<id>``).

    A body declared larger than the limit (``Content-Length``) is refused at once,
    unread; a body without a length (chunked) is read only up to the limit
    (:class:`SizeLimitUploadHandler`).
    """
    limit = reports.upload_max_bytes()
    if request.method == "POST" and _declared_length(request) > limit + MULTIPART_OVERHEAD:
        return _refuse_too_large(request)
    request.upload_handlers.insert(0, SizeLimitUploadHandler(request, limit))
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET.get("job"):
        return _progress_page(request, request.GET["job"])
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    layers = reports.upload_layers(user=request.user)
    context: dict[str, Any] = {"max_size": reports.upload_max_bytes(), "layers": layers}
    if not layers:
        return render(request, "web/reports/upload.html", context, status=(
            403 if request.method == "POST" else 200))
    status = 200
    shift = reports.refused_shift(user=request.user, pk=request.POST.get(
        "shift", "") if request.method == "POST" else request.GET.get("shift", ""))
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, layers=layers, shift=shift)
        too_large = getattr(request, "upload_too_large", False)
        if form.is_valid() and not too_large:
            data = form.cleaned_data
            try:
                job = reports.create_upload_job(
                    user=request.user, layer_code=data["layer"], upload=data["file"],
                    crs=data["crs"], dry_run=data["dry_run"], strict=data["strict"],
                    accept_shift=bool(data.get("accept_shift")))
            except KentCBSError as error:
                form.add_error(None, error.text)
                status = 403
            else:
                return _after_upload(job)
        else:
            if too_large:
                form.errors["file"] = form.error_class([too_large_message()])
                status = 413
            elif "layer" in form.errors:
                status = 403  # a layer the user may not edit (not among the choices)
            else:
                status = 400
    else:
        initial = {"layer": request.GET.get("layer")} if request.GET.get("layer") else None
        form = UploadForm(initial=initial, layers=layers, shift=shift)
        warm_up()  # the ETL's parser server starts while the user picks a file (once)
    context["form"] = form
    return render(request, "web/reports/upload.html", context, status=status)


def _after_upload(job: Any) -> HttpResponse:
    """The mapping step when the file's columns are not all the standard's fields (by their
    own names or by the department's saved mapping); otherwise the upload starts at once."""
    from web.models import UploadJobStatusChoices

    found = reports.suggest_for_job(job)
    if found is not None and not found.exact:
        job.status = UploadJobStatusChoices.MAPPING
        job.save(update_fields=["status"])
        return redirect("web:upload_mapping", pk=job.pk)
    if found is not None:
        job.mapping = found.mapping() | dict.fromkeys(found.left_out(), "")
        job.save(update_fields=["mapping"])
    reports.start_upload(job)
    return redirect(f"{reverse('web:upload')}?job={job.pk}")


#: Why a column was matched, in words (the suggestion's reason codes).
REASON_LABELS = {
    "saved": gettext_lazy("your department's earlier mapping"),
    "name": gettext_lazy("same name"),
    "synonym": gettext_lazy("known abbreviation"),
    "similar name": gettext_lazy("similar name"),
    "content": gettext_lazy("its values"),
}


def reason_label(reason: str) -> str:
    """``"synonym + content: 10-digit codes"`` -> ``"known abbreviation, its values"``."""
    parts = [str(REASON_LABELS.get(part.split(":")[0].strip(), "")) for part in
             reason.split(" + ")]
    return ", ".join(p for p in parts if p)


class ColumnMappingForm(forms.Form):
    """One choice per column of the file (a field of the standard, or not loaded) and one
    per code-list value without an entry (the entry it stands for, or none)."""

    def __init__(self, *args: Any, suggestion: Any, layer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggestion, self.layer = suggestion, layer
        fields = [("", _("— not loaded —"))] + [
            (f.name, f"{f.title.text()} ({f.name}){' *' if f.required else ''}")
            for f in layer.fields]
        self.rows: list[dict[str, Any]] = []
        for i, item in enumerate(suggestion.columns):
            name = f"col_{i}"
            self.fields[name] = forms.ChoiceField(choices=fields, required=False,
                                                  initial=item.field or "", label=item.column)
            codelist_name = layer.field(item.field).codelist if item.field else None
            aliases = []
            if codelist_name and item.unmatched:
                from etl.mapping import codelist_codes

                entries = [("", _("— no entry: report it as an error —"))] + [
                    (code, code) for code in codelist_codes(codelist_name)]
                for j, (value, proposed) in enumerate(item.unmatched.items()):
                    alias_name = f"alias_{i}_{j}"
                    self.fields[alias_name] = forms.ChoiceField(
                        choices=entries, required=False, initial=proposed, label=value)
                    aliases.append({"name": alias_name, "value": value,
                                    "proposed": proposed})
            self.rows.append({"item": item, "name": name, "reason": reason_label(item.reason),
                              "codelist": codelist_name, "aliases": aliases,
                              "share": None if item.codelist_share is None
                              else round(100 * item.codelist_share)})

    def bound_rows(self) -> list[dict[str, Any]]:
        return [row | {"field": self[row["name"]],
                       "alias_fields": [a | {"field": self[a["name"]]} for a in row["aliases"]]}
                for row in self.rows]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen: dict[str, str] = {}
        for row in self.rows:
            target = data.get(row["name"]) or ""
            if target and target in chosen.values():
                raise forms.ValidationError(_("The field %(field)s is chosen for more than "
                                              "one column.") % {"field": target})
            chosen[row["item"].column] = target
        data["mapping"] = chosen
        aliases = []
        for row in self.rows:
            target = chosen[row["item"].column]
            if not target or not row["codelist"] or \
                    self.layer.field(target).codelist != row["codelist"]:
                continue  # the column now goes elsewhere: its values' aliases do not apply
            for alias in row["aliases"]:
                code = data.get(alias["name"]) or ""
                if code:
                    aliases.append((row["codelist"], alias["value"], code))
        data["aliases"] = aliases
        return data


@login_required
def upload_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """The mapping step of one upload: the file's columns beside the standard's fields,
    with the suggested matches, sample values and code-list shares; confirmed, the upload
    runs with that mapping (kept for the department's next file)."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    job = reports.mapping_job(user=request.user, pk=pk)
    if job is None:
        raise Http404
    layer = reports.layer_or_none(job.layer_code)
    found = reports.suggest_for_job(job)
    if layer is None or found is None:  # unreadable now: the ETL says why, in its report
        reports.confirm_mapping(job, user=request.user, mapping={}, aliases=[])
        return redirect(f"{reverse('web:upload')}?job={job.pk}")
    form = ColumnMappingForm(request.POST or None, suggestion=found, layer=layer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            reports.confirm_mapping(job, user=request.user,
                                    mapping=form.cleaned_data["mapping"],
                                    aliases=form.cleaned_data["aliases"])
            return redirect(f"{reverse('web:upload')}?job={job.pk}")
        status = 400
    mapped = {row["item"].field for row in form.rows if row["item"].field}
    return render(request, "web/reports/mapping.html", {
        "job": job, "layer": layer, "layer_title": _title(layer), "form": form,
        "rows": form.bound_rows(),
        "missing_required": [f for f in layer.fields if f.required and not f.computed
                             and f.name not in mapped]}, status=status)


def _progress_page(request: HttpRequest, value: str) -> HttpResponse:
    try:
        pk = parse_id(value, name="job")
    except InvalidParameter:
        pk = None  # no job has that number: the same 404 as another user's job
    job = reports.visible_job(user=request.user, pk=pk) if pk is not None else None
    if job is None:
        raise Http404
    layer = reports.layer_or_none(job.layer_code)
    return render(request, "web/reports/progress.html", {
        "job": job, "progress": reports.job_progress(job),
        "layer_title": _title(layer) if layer is not None else job.layer_code})


@login_required
@require_GET
def upload_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Progress of one of the caller's upload jobs (404 for anyone else's)."""
    job = reports.visible_job(user=request.user, pk=pk)
    if job is None:
        raise Http404
    response = JsonResponse(reports.job_progress(job))
    response["Cache-Control"] = "no-store"
    return response
