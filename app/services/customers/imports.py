"""Importing customers from CSV or XLSX: keep the upload, preview it with a guessed column mapping, then
run it as a job (a JobRun of kind ``customers_import``) that upserts each row and records each refused
cell as a problem with a code, worded in the reader's language when its page or its download is read.

The file is read by ``tables`` (streamed, never whole); rows are written 500 at a time, each batch in its
own transaction, so a 100,000-row file holds one batch in memory.

Decisions where the issue is silent:

- A row with any refused cell is skipped whole (no half-imported customer), its problems listed.
- A blank cell changes nothing on an existing customer (an import fills and corrects, it does not erase);
  a branch named in a row is added to the customer's branches; "no" in a consent column records an opt-out.
- A row is matched by external id, else phone, else e-mail (``records.matches``); a row with none of the
  three is refused (``no_identity``): nothing would find that customer again.
- Each row's phone is read in the country of its branch (the row's, else the import's default branch),
  else head office's.
"""
from __future__ import annotations

import csv
import io
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, select

from app.core import contacts
from app.core.clock import utcnow
from app.core.contacts import Channel, ContactProblem
from app.extensions import db
from app.models import Branch, Customer, CustomerImportProblem, JobRun, User
from app.services import audit, file_store, job_runs
from app.services.customers import attributes as attribute_definitions
from app.services.customers import records, tables

log = logging.getLogger(__name__)

KIND = "customers_import"
BATCH = 500
#: Problems kept per import: a wrong file would otherwise write one per cell of 100,000 rows.
MAX_PROBLEMS = 10_000


# --- Uploads -----------------------------------------------------------------------------------------


def max_bytes() -> int:
    return int(current_app.config["LOOPDESK_CUSTOMER_IMPORT_MAX_MB"] * (1 << 20))


def keep_upload(user: User, source: BinaryIO, file_name: str) -> tuple[str, tables.Preview]:
    """Copy the uploaded file (a piece at a time, at most ``max_bytes``) into the file store and preview it.

    Returns the upload's name (it names its user: nobody else can run it) and the preview. The file is
    removed again when it cannot be read.
    """
    upload = f"upload-{user.id}-{uuid.uuid4().hex}"
    path = file_store.scratch_file(f"{upload}-")
    size, limit = 0, max_bytes()
    try:
        with open(path, "wb") as out:
            while piece := source.read(1 << 20):
                size += len(piece)
                if size > limit:
                    raise tables.ImportFileError("too_big")
                out.write(piece)
        preview = tables.read_preview(upload, file_name, path)
    except tables.ImportFileError:
        os.remove(path)
        raise
    file_store.current().put(upload, path)
    return upload, preview


def _owned(user: User, upload: str) -> bool:
    return upload.startswith(f"upload-{user.id}-") and all(ch.isalnum() or ch == "-" for ch in upload)


def _local_copy(store_name: str, upload: str) -> tuple[str, bool]:
    """A local path of the upload (the folder store's own, else a scratch copy to remove after)."""
    store = file_store.named(store_name)
    path = store.local_path(upload)
    if path is not None:
        if not os.path.exists(path):
            raise FileNotFoundError(upload)
        return path, False
    path = file_store.scratch_file(f"{upload}-")
    with open(path, "wb") as out:
        file_store.copy_to(store, upload, out)
    return path, True


def preview_upload(user: User, upload: str, file_name: str) -> tables.Preview | None:
    """The preview of one of the user's uploads, None when it is not theirs or gone."""
    if not _owned(user, upload):
        return None
    try:
        path, scratch = _local_copy(file_store.current().name, upload)
    except FileNotFoundError:
        return None
    try:
        return tables.read_preview(upload, file_name, path)
    except tables.ImportFileError:
        return None
    finally:
        if scratch:
            os.remove(path)


def start(user: User, preview: tables.Preview, mapping: list[str], branch_id: int | None) -> JobRun:
    """Hand the upload to the import job with the mapping the admin chose."""
    allowed = set(contacts.FIELDS) | {f"attr:{a.key}" for a in attribute_definitions.definitions()}
    mapping = [field if field in allowed else "" for field in mapping][: len(preview.headers)]
    run = job_runs.start(KIND, user, {
        "upload": preview.upload, "store": file_store.current().name, "file_name": preview.file_name[:200],
        "format": preview.format, "encoding": preview.encoding, "header_row": preview.header_row,
        "headers": preview.headers, "mapping": mapping, "branch_id": branch_id,
    })
    return run


# --- The job --------------------------------------------------------------------------------------


@dataclass
class _Lookups:
    branches: dict[str, Branch]
    owners: dict[str, int]
    attributes: dict[str, object]
    default_branch: Branch | None


def _lookups(branch_id: int | None) -> _Lookups:
    branches: dict[str, Branch] = {}
    for branch in db.session.scalars(select(Branch)):
        branches.setdefault(branch.code.lower(), branch)
        branches.setdefault(branch.name.strip().lower(), branch)
    owners = dict(db.session.execute(select(func.lower(User.username), User.id).where(User.active.is_(True))).all())
    return _Lookups(branches, owners, attribute_definitions.by_key(),
                    db.session.get(Branch, branch_id) if branch_id else None)


@dataclass
class _Row:
    number: int
    values: dict[str, object]
    branches: list[Branch]
    owner_id: int | None
    consents: dict[str, bool]
    attributes: dict[str, object]
    identity: records.Identity


def read_row(number: int, cells: Sequence[object], mapping: Sequence[str], headers: Sequence[str],
             lookups: _Lookups) -> tuple[_Row | None, list[tuple[str, str]]]:
    """One row as values to write, or None with its problems (column header, code)."""
    problems: list[tuple[str, str]] = []
    by_field: dict[str, tuple[str, object]] = {}
    for index, field in enumerate(mapping):
        if field and index < len(cells):
            by_field[field] = (headers[index] if index < len(headers) else "", cells[index])

    def cell(field: str) -> object:
        return by_field.get(field, ("", None))[1]

    def refused(field: str, code: str) -> None:
        problems.append((by_field.get(field, ("", None))[0], code))

    branches: list[Branch] = []
    raw_branches = cell("branch")
    if raw_branches is not None and str(raw_branches).strip():
        for name in contacts.TAG_SEPARATORS.split(str(raw_branches)):
            if name.strip():
                found = lookups.branches.get(name.strip().lower())
                if found is None:
                    refused("branch", "branch_unknown")
                elif found not in branches:
                    branches.append(found)
    region_branches = branches or ([lookups.default_branch] if lookups.default_branch else [])
    if lookups.default_branch is not None and not branches:
        branches = [lookups.default_branch]
    region = records.phone_region(region_branches)
    values: dict[str, object] = {}
    steps = {
        "external_id": lambda raw: contacts.limited(raw, contacts.EXTERNAL_ID_MAX),
        "name": lambda raw: contacts.limited(raw, contacts.NAME_MAX),
        "company": lambda raw: contacts.limited(raw, contacts.COMPANY_MAX),
        "phone": lambda raw: contacts.normalised_phone(None if raw is None else _phone_text(raw), region),
        "email": lambda raw: contacts.normalised_email(None if raw is None else str(raw)),
        "language": contacts.language,
    }
    for field, step in steps.items():
        if field in by_field:
            try:
                value = step(cell(field))
            except ContactProblem as problem:
                refused(field, problem.code)
                continue
            if value is not None:
                values[field] = value
    owner_id = None
    raw_owner = cell("owner")
    if raw_owner is not None and str(raw_owner).strip():
        owner_id = lookups.owners.get(str(raw_owner).strip().lower())
        if owner_id is None:
            refused("owner", "owner_unknown")
    consents: dict[str, bool] = {}
    for channel in Channel:
        field = f"consent_{channel.value}"
        if field in by_field:
            try:
                answer = contacts.yes_no(cell(field))
            except ContactProblem as problem:
                refused(field, problem.code)
                continue
            if answer is not None:
                consents[channel.value] = answer
    attributes: dict[str, object] = {}
    for field in by_field:
        if field.startswith("attr:"):
            definition = lookups.attributes.get(field[5:])
            if definition is None:
                continue
            try:
                value = attribute_definitions.stored_value(definition, cell(field))
            except ContactProblem as problem:
                refused(field, problem.code)
                continue
            if value is not None:
                attributes[definition.key] = value
    identity = records.Identity(values.get("external_id"), values.get("phone"),
                                contacts.email_key(values.get("email")))
    if not problems and not (identity.external_id or identity.phone or identity.email_key):
        problems.append(("", "no_identity"))
    if problems:
        return None, problems
    return _Row(number, values, branches, owner_id, consents, attributes, identity), []


def _phone_text(raw: object) -> str:
    """A phone cell as text: Excel keeps 13812345678 as a number (13812345678.0 once read)."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    refused: int = 0
    rows: int = 0


def _write(batch: list[_Row], counts: Counts) -> None:
    """Upsert a batch of rows (matched in three queries), later rows of the file winning."""
    found = records.matches(row.identity for row in batch)
    recent: dict[tuple[str, str], Customer] = {}
    now = utcnow()
    for row in batch:
        keys = [(name, value) for name, value in zip(("external_id", "phone", "email"), row.identity.__dict__.values())
                if value]
        customer = next((recent[k] for k in keys if k in recent), None) or found.get(row.identity)
        if customer is not None and customer.external_id not in (None, row.identity.external_id) \
                and row.identity.external_id:
            customer = None
        if customer is None:
            customer = Customer(attributes={}, branches=[], consents=[])
            db.session.add(customer)
            counts.created += 1
        elif customer.id is not None:
            counts.updated += 1
        for name, value in row.values.items():
            setattr(customer, name, value)
        customer.email_key = contacts.email_key(customer.email)
        if row.owner_id is not None:
            customer.owner_id = row.owner_id
        if row.attributes:
            customer.attributes = {**(customer.attributes or {}), **row.attributes}
        for branch in row.branches:
            if branch not in customer.branches:
                customer.branches.append(branch)
        for channel, granted in row.consents.items():
            records.set_consent(customer, channel, granted, "import", at=now)
        customer.last_activity_at = now
        for key in keys:
            recent[key] = customer


def run(run: JobRun, out: BinaryIO, progress: job_runs.Progress) -> None:
    """The job's builder: import every row of the run's upload. Makes no file: its page lists what it did."""
    params = dict(run.params)
    db.session.execute(db.delete(CustomerImportProblem).where(CustomerImportProblem.run_id == run.id))
    path, scratch = _local_copy(params["store"], params["upload"])
    try:
        total = tables.rows_total(path, params["format"])
        lookups = _lookups(params.get("branch_id"))
        headers, mapping = params["headers"], params["mapping"]
        counts, batch, problems = Counts(), [], 0
        for number, cells in tables.table_rows(path, params["format"], params.get("encoding")):
            if number <= params["header_row"]:
                continue
            counts.rows += 1
            row, found = read_row(number, cells, mapping, headers, lookups)
            if row is None:
                counts.refused += 1
                for column, code in found:
                    if problems < MAX_PROBLEMS:
                        db.session.add(CustomerImportProblem(run_id=run.id, row=number, column=column[:120], code=code))
                        problems += 1
            else:
                batch.append(row)
            if len(batch) >= BATCH or (counts.rows % BATCH == 0):
                _flush_batch(batch, counts)
                progress(counts.rows, max(total, counts.rows))
        _flush_batch(batch, counts)
        progress(counts.rows, counts.rows)
    finally:
        if scratch:
            os.remove(path)
    run.params = {**params, "result": counts.__dict__ | {"problems": problems}}
    owner = db.session.get(User, run.user_id) if run.user_id else None
    audit.record(owner, "import", run, label=f"{params['file_name']}",
                 after={"created": counts.created, "updated": counts.updated, "refused": counts.refused})
    db.session.commit()
    file_store.named(params["store"]).delete(params["upload"])
    return None


def _flush_batch(batch: list[_Row], counts: Counts) -> None:
    if batch:
        _write(batch, counts)
        batch.clear()
    db.session.commit()


# --- Reading the result -----------------------------------------------------------------------------


def runs(user: User, limit: int = 10) -> list[JobRun]:
    query = select(JobRun).where(JobRun.kind == KIND).order_by(JobRun.id.desc()).limit(limit)
    return list(db.session.scalars(query if user.is_admin else query.where(JobRun.user_id == user.id)))


def problems(run: JobRun, limit: int | None = 200) -> list[CustomerImportProblem]:
    query = select(CustomerImportProblem).where(CustomerImportProblem.run_id == run.id).order_by(
        CustomerImportProblem.row, CustomerImportProblem.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


def problems_csv(run: JobRun, words: dict[str, str], heading: Sequence[str]) -> Iterator[str]:
    """Every problem of the run as CSV lines (UTF-8 with its BOM, so Excel reads the Chinese), worded by ``words``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(heading)
    query = select(CustomerImportProblem).where(CustomerImportProblem.run_id == run.id).order_by(
        CustomerImportProblem.row, CustomerImportProblem.id).execution_options(yield_per=1000)
    for problem in db.session.scalars(query):
        writer.writerow([problem.row, problem.column, words.get(problem.code, problem.code)])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
