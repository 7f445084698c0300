"""Known customers under /customers/: the list, a customer's page, consent, erasure, attributes and imports.

Supervisors and admins only (``role_required``), and each sees only the customers in their scope
(``permissions.scope_customers``): another branch's customer by id is a 404, as is one that does not
exist. Defining attributes, importing and erasing are the admins'.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from wtforms.fields.choices import SelectChoice
from sqlalchemy import select

from app import labels
from app.core.contacts import Channel, choices_text
from app.core.ids import parse_id
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db, htmx
from app.forms.customers import (
    AttributeForm,
    EraseForm,
    ImportUploadForm,
    attribute_field_name,
    branch_choices,
    customer_form,
    mapping_form,
)
from app.models import Branch, CustomerAttribute, Response as SurveyResponse, Role, Ticket, User
from app.permissions import role_required, scope_responses, scope_tickets
from app.services import job_runs
from app.services.customers import attributes as attribute_definitions
from app.services.customers import imports, privacy, records
from app.services.customers.attributes import AttributeDefinitionError, AttributeFields
from app.services.customers.tables import ImportFileError
from app.services.customers.records import CustomerError, CustomerFields, CustomerFilter

bp = Blueprint("customers", __name__, url_prefix="/customers")

managers = role_required(Role.SUPERVISOR)
admins = role_required(Role.ADMIN)


@bp.context_processor
def customer_labels() -> dict:
    return {
        "channel_labels": labels.CONTACT_CHANNEL_LABELS,
        "consent_source_labels": labels.CONSENT_SOURCE_LABELS,
        "attribute_type_labels": labels.ATTRIBUTE_TYPE_LABELS,
        "shown_value": attribute_definitions.shown_value,
    }


def _customer_or_404(customer_id: int):
    customer = records.find_for(current_user, customer_id)
    if customer is None:
        abort(404)
    return customer


def _branches_in_scope() -> list[Branch]:
    query = select(Branch).order_by(Branch.name)
    if current_user.role != Role.ADMIN and not current_user.all_branches:
        query = query.where(Branch.id.in_([b.id for b in current_user.branches] or [0]))
    return list(db.session.scalars(query))


@bp.get("/")
@managers
def index():
    args = request.args
    f = CustomerFilter(text=args.get("q", "")[:100], branch_id=args.get("branch", type=parse_id),
                       attribute=args.get("attribute", "")[:40], value=args.get("value", "")[:100],
                       erased=args.get("erased") == "1")
    page = records.listing(current_user, f, page=args.get("page", 1, type=int) or 1)
    context = {"page": page, "filters": f, "branches": _branches_in_scope(),
               "definitions": attribute_definitions.definitions()}
    headers = {"Vary": "HX-Request"}
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_block("customers/index.html", "results", **context), 200, headers
    return render_template("customers/index.html", **context), 200, headers


@bp.get("/<id:customer_id>")
@managers
def show(customer_id: int):
    customer = _customer_or_404(customer_id)
    responses = list(db.session.scalars(
        scope_responses(select(SurveyResponse), current_user)
        .where(SurveyResponse.customer_id == customer.id, SurveyResponse.submitted_at.is_not(None))
        .order_by(SurveyResponse.submitted_at.desc()).limit(50)
    ))
    tickets = list(db.session.scalars(
        scope_tickets(select(Ticket), current_user).where(Ticket.customer_id == customer.id)
        .order_by(Ticket.id.desc()).limit(50)
    ))
    return render_template("customers/show.html", customer=customer, responses=responses, tickets=tickets,
                           definitions=attribute_definitions.definitions(), erase_form=EraseForm())


def _form_fields(form, definitions, allowed_branch_ids: set[int]) -> CustomerFields:
    return CustomerFields(
        name=form.name.data or "", company=form.company.data or "", phone=form.phone.data or "",
        email=form.email.data or "", language=form.language.data or "", external_id=form.external_id.data or "",
        branch_ids=[i for i in form.branch_ids.data or [] if i in allowed_branch_ids],
        owner_id=form.owner_id.data or None,
        attributes={a.key: getattr(form, attribute_field_name(a)).data for a in definitions},
    )


def _edit(customer):
    definitions = attribute_definitions.definitions()
    branches = _branches_in_scope()
    owners = list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role != Role.STAFF).order_by(User.display_name)
    ))
    form = customer_form(definitions, obj=customer) if request.method == "GET" and customer else customer_form(definitions)
    form.fill_choices(branches, owners)
    if request.method == "GET" and customer is not None:
        form.branch_ids.data = [b.id for b in customer.branches]
        form.owner_id.data = customer.owner_id or 0
        form.language.data = customer.language or ""
        for attribute in definitions:
            value = (customer.attributes or {}).get(attribute.key)
            getattr(form, attribute_field_name(attribute)).data = (
                ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value)))
    status = 200
    if form.validate_on_submit():
        values = _form_fields(form, definitions, {b.id for b in branches})
        if not _keeps_in_scope(values):
            form.branch_ids.errors = [*form.branch_ids.errors, _("Choose one of your branches, or make yourself the account owner: otherwise you could not see this customer.")]
            status = 422
        else:
            try:
                saved = records.save(current_user, customer, values)
            except CustomerError as error:
                for name, message in error.errors.items():
                    field = getattr(form, name, None)
                    if field is not None:
                        field.errors = [*field.errors, message]
                status = 422
            else:
                db.session.commit()
                flash(_("Saved."))
                return redirect(url_for(".show", customer_id=saved.id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("customers/edit.html", form=form, customer=customer, definitions=definitions), status


def _keeps_in_scope(values: CustomerFields) -> bool:
    if current_user.role == Role.ADMIN or current_user.all_branches:
        return True
    return bool(values.branch_ids) or values.owner_id == current_user.id


@bp.route("/new", methods=["GET", "POST"])
@managers
def new():
    return _edit(None)


@bp.route("/<id:customer_id>/edit", methods=["GET", "POST"])
@managers
def edit(customer_id: int):
    customer = _customer_or_404(customer_id)
    if customer.erased_at is not None:
        abort(404)
    return _edit(customer)


@bp.post("/<id:customer_id>/consent")
@managers
def consent(customer_id: int):
    customer = _customer_or_404(customer_id)
    channel = request.form.get("channel", "")
    granted = request.form.get("granted")
    if customer.erased_at is not None or channel not in {c.value for c in Channel} or granted not in ("1", "0"):
        abort(400)
    records.change_consent(current_user, customer, channel, granted == "1")
    db.session.commit()
    flash(_("Consent recorded.") if granted == "1" else _("Opt-out recorded."))
    return redirect(url_for(".show", customer_id=customer.id), 303)


@bp.post("/<id:customer_id>/erase")
@admins
def erase(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to erase."), "error")
        return redirect(url_for(".show", customer_id=customer.id), 303)
    privacy.erase(current_user, customer)
    db.session.commit()
    flash(_("The customer's personal data was erased; their answers still count in the figures."))
    return redirect(url_for(".show", customer_id=customer.id), 303)


# --- Attributes -------------------------------------------------------------------------------


@bp.route("/attributes/", methods=["GET", "POST"])
@bp.route("/attributes/<id:attribute_id>", methods=["GET", "POST"])
@admins
def attributes(attribute_id: int | None = None):
    attribute = db.session.get(CustomerAttribute, attribute_id) if attribute_id else None
    if attribute_id and attribute is None:
        abort(404)
    form = AttributeForm()
    if request.method == "GET" and attribute is not None:
        form.key.data, form.type.data, form.position.data = attribute.key, attribute.type.value, attribute.position
        for locale in SUPPORTED_LOCALES:
            getattr(form, f"label_{locale}").data = (attribute.labels or {}).get(locale, "")
        form.choices_text.data = choices_text(attribute.choices or ())
    status = 200
    if form.validate_on_submit():
        values = AttributeFields(
            key=form.key.data or (attribute.key if attribute else ""), type=form.type.data,
            labels={locale: getattr(form, f"label_{locale}").data or "" for locale in SUPPORTED_LOCALES},
            choices_text=form.choices_text.data or "", position=form.position.data or 0,
        )
        try:
            attribute_definitions.save(current_user, attribute, values)
        except AttributeDefinitionError as error:
            for name, message in error.errors.items():
                field = getattr(form, "label_zh_Hans" if name == "labels" else name)
                field.errors = [*field.errors, message]
            status = 422
        else:
            db.session.commit()
            flash(_("Saved."))
            return redirect(url_for(".attributes"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("customers/attributes.html", form=form, attribute=attribute,
                           definitions=attribute_definitions.definitions()), status


# --- Imports ----------------------------------------------------------------------------------


def _file_problem(error: ImportFileError) -> str:
    return labels.IMPORT_FILE_PROBLEMS[error.code] % {"mb": f"{imports.max_bytes() / (1 << 20):g}"}


def _upload_form() -> ImportUploadForm:
    form = ImportUploadForm()
    form.branch_id.choices = [SelectChoice(0, "—"), *branch_choices(_branches_in_scope())]
    return form


@bp.route("/import", methods=["GET", "POST"])
@admins
def import_upload():
    """Step 1: the file. Any file is answered with the mapping page or a message, never an error page."""
    form = _upload_form()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            key, _preview = imports.keep_upload(current_user, upload.stream, upload.filename or "")
        except ImportFileError as error:
            form.file.errors = [*form.file.errors, _file_problem(error)]
            status = 422
        else:
            return redirect(url_for(".import_mapping", upload=key, name=(upload.filename or "")[:200],
                                    branch=form.branch_id.data or None), 303)
    elif request.method == "POST":
        status = 422
    return render_template("customers/import.html", form=form, runs=imports.runs(current_user)), status


@bp.route("/import/<upload>", methods=["GET", "POST"])
@admins
def import_mapping(upload: str):
    """Step 2: the first rows and which field each column fills (guessed from the headers); then the job."""
    name = request.args.get("name", "")[:200]
    preview = imports.preview_upload(current_user, upload, name)
    if preview is None:
        abort(404)
    definitions = attribute_definitions.definitions()
    form = mapping_form(preview.headers, preview.mapping, definitions)
    if form.validate_on_submit():
        mapping = [getattr(form, f"col_{i}").data or "" for i in range(len(preview.headers))]
        branch_id = request.args.get("branch", type=parse_id)
        if branch_id and branch_id not in {b.id for b in _branches_in_scope()}:
            branch_id = None
        run = imports.start(current_user, preview, mapping, branch_id)
        return redirect(url_for(".import_result", run_id=run.id), 303)
    columns = [(getattr(form, f"col_{i}"), [row[i] for row in preview.rows]) for i in range(len(preview.headers))]
    return render_template("customers/import_mapping.html", form=form, preview=preview, columns=columns), (
        422 if request.method == "POST" else 200)


def _import_run_or_404(run_id: int):
    run = job_runs.run_for(current_user, run_id)
    if run is None or run.kind != imports.KIND:
        abort(404)
    return run


@bp.get("/imports/<id:run_id>")
@admins
def import_result(run_id: int):
    """Step 3: progress (polled), then what was created and updated and each refused row."""
    run = _import_run_or_404(run_id)
    context = {"run": run, "result": (run.params or {}).get("result"),
               "problems": imports.problems(run) if run.finished else [],
               "problem_words": labels.CONTACT_PROBLEMS}
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render_block("customers/import_result.html", "progress", **context), 200, headers
    return render_template("customers/import_result.html", **context), 200, headers


@bp.get("/imports/<id:run_id>/problems.csv")
@admins
def import_problems(run_id: int):
    """Every refused cell, worded in the reader's language now (the job stored codes)."""
    run = _import_run_or_404(run_id)
    words = {code: str(message) for code, message in labels.CONTACT_PROBLEMS.items()}
    heading = [_("Row"), _("Column"), _("Problem")]
    body = stream_with_context(imports.problems_csv(run, words, heading))
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="import-{run.id}-problems.csv"'})
