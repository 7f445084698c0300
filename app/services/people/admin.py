"""Departments and users as admins manage them: invite, role and scope, deactivate, password links.

Each operation checks the change, applies it, writes the audit entry and flushes; the view
commits (and then hands an e-mail to the sender). A change that cannot be made raises
``PeopleError`` with a message per form field, before anything is changed.

Decisions:

- **Nobody and nothing is deleted.** Users and departments are deactivated: a deactivated
  user cannot sign in (and is signed out at their next request), their name stays on tickets
  and in the audit log; a deactivated department's routing rules are skipped.
- **Exactly one active triage department**, where negative feedback no rule claims lands:
  making a department triage takes the flag from the other; the triage department cannot be
  deactivated or lose the flag until another one has it. Deactivating any other department
  is allowed, with a warning that counts its open tickets and the routing rules sending to it.
- **The admins keep one of themselves**: an admin cannot deactivate or demote themselves,
  and the last active admin cannot be deactivated or demoted.
- **Scope is required for staff and supervisors** (every branch or chosen ones, and at least
  one department): without it they would see an empty queue and not know why. Admins see
  everything whatever their scope says.
- **Passwords**: 10 to 200 characters, not the username. Nobody sets another person's
  password: an invitation or a reset gives the person a single-use link, valid 7 days,
  signed with SECRET_KEY and salted with the user's current password hash, so it stops
  working once a password is set or a newer link replaces it. Meanwhile the password hash is
  an unusable value (``UNUSABLE_PREFIX``): a reset locks the old password out at once.
- **The link goes by e-mail** when the user has an address; the admin may also show it on
  screen to hand over in person (staff on a shared tablet often have no e-mail). Showing it
  issues a new link the same way, so it is audited like a reset.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Branch, Department, OutboxEmail, Role, RoutingRule, Ticket, User
from app.models.tickets import OPEN_STATUSES
from app.services import audit, notifications

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
PASSWORD_LINK_MAX_AGE = timedelta(days=7)
#: A password hash no password matches (werkzeug refuses a hash without its "method$salt$").
UNUSABLE_PREFIX = "!"
USERNAME_PATTERN = re.compile(r"^[\w.@+-]{2,80}$")
DEPARTMENT_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DEPARTMENT_FIELDS = ("code", "name", "is_triage", "active")
USER_FIELDS = ("username", "display_name", "email", "role", "locale", "all_branches", "active")


class PeopleError(ValueError):
    """A change that cannot be made; ``errors`` maps each form field to the message to show at it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(message) for message in self.errors.values()))


# --- Departments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentLoad:
    """What still depends on a department: open tickets waiting in it, active rules sending to it."""

    open_tickets: int = 0
    rules: int = 0


def departments() -> list[Department]:
    """Active first, then by name."""
    return list(db.session.scalars(select(Department).order_by(Department.active.desc(), Department.name)))


def department_loads() -> dict[int, DepartmentLoad]:
    tickets = dict(db.session.execute(
        select(Ticket.department_id, func.count()).where(Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.department_id)
    ).all())
    rules = dict(db.session.execute(
        select(RoutingRule.department_id, func.count()).where(RoutingRule.active.is_(True))
        .group_by(RoutingRule.department_id)
    ).all())
    return {d: DepartmentLoad(tickets.get(d, 0), rules.get(d, 0)) for d in tickets.keys() | rules.keys()}


def department_load(department: Department) -> DepartmentLoad:
    return department_loads().get(department.id, DepartmentLoad())


def save_department(actor: User, department: Department | None, code: str, name: str, is_triage: bool) -> Department:
    """Create (``department`` None) or change a department; the triage flag moves, never doubles."""
    code, name = code.strip().lower(), name.strip()
    errors: dict[str, str] = {}
    if not DEPARTMENT_CODE_PATTERN.fullmatch(code):
        errors["code"] = _l("Use 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit.")
    elif db.session.scalar(select(Department.id).where(Department.code == code, Department.id != (department.id if department else -1))):
        errors["code"] = _l("Another department has this code.")
    if not name:
        errors["name"] = _l("Give the department a name.")
    if department is not None and department.is_triage and department.active and not is_triage:
        errors["is_triage"] = _l(
            "Unclaimed complaints must land somewhere: make another department triage first."
        )
    if department is not None and not department.active and is_triage and not department.is_triage:
        errors["is_triage"] = _l("Reactivate the department before making it triage.")
    if errors:
        raise PeopleError(errors)
    before = audit.values(department, DEPARTMENT_FIELDS) if department is not None else None
    if department is None:
        department = Department(code=code, name=name, is_triage=False, active=True)
        db.session.add(department)
    department.code, department.name = code, name
    if is_triage and not department.is_triage:
        _take_triage_flag(actor, keep=department)
    department.is_triage = is_triage
    db.session.flush()
    if before is None:
        audit.record(actor, "create", department, after=audit.values(department, DEPARTMENT_FIELDS))
    else:
        audit.record(actor, "update", department, before=before, after=audit.values(department, DEPARTMENT_FIELDS))
    return department


def _take_triage_flag(actor: User, keep: Department) -> None:
    for other in db.session.scalars(select(Department).where(Department.is_triage.is_(True))):
        if other is not keep:
            other.is_triage = False
            audit.record(actor, "update", other, before={"is_triage": True}, after={"is_triage": False})


def set_department_active(actor: User, department: Department, active: bool) -> DepartmentLoad:
    """(De)activate; returns what still depends on it, for the warning."""
    if not active and department.is_triage:
        raise PeopleError({"active": _l(
            "This is the triage department, where complaints no rule claims land: make another department "
            "triage first."
        )})
    if department.active != active:
        department.active = active
        db.session.flush()
        audit.record(actor, "activate" if active else "deactivate", department,
                     before={"active": not active}, after={"active": active})
    return department_load(department)


# --- Users ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserFields:
    """What the invite and edit forms say of a user, before it is checked."""

    username: str
    display_name: str
    email: str | None
    role: Role
    locale: str | None
    all_branches: bool
    branch_ids: Sequence[int]
    department_ids: Sequence[int]


def user_values(user: User) -> dict:
    """The audit snapshot of a user: fields, and scope by code (never the password hash)."""
    return {
        **audit.values(user, USER_FIELDS),
        "branches": sorted(b.code for b in user.branches),
        "departments": sorted(d.code for d in user.departments),
    }


def users(role: str | None = None, active: bool | None = None, branch_id: int | None = None) -> list[User]:
    query = select(User).options(selectinload(User.branches), selectinload(User.departments))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if branch_id is not None:
        query = query.where(User.all_branches.is_(True) | User.branches.any(Branch.id == branch_id))
    return list(db.session.scalars(query.order_by(User.active.desc(), func.lower(User.username))))


def password_pending(user: User) -> bool:
    """Invited or reset, and no password chosen yet."""
    return user.password_hash.startswith(UNUSABLE_PREFIX)


def open_tickets_assigned(user: User) -> int:
    return db.session.scalar(
        select(func.count(Ticket.id)).where(Ticket.assignee_id == user.id, Ticket.status.in_(OPEN_STATUSES))
    ) or 0


def _checked(fields: UserFields, user: User | None) -> tuple[list[Branch], list[Department]]:
    errors: dict[str, str] = {}
    username = fields.username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        errors["username"] = _l("Use 2 to 80 letters, digits or . _ @ + - (no spaces).")
    elif db.session.scalar(select(User.id).where(
        func.lower(User.username) == username.lower(), User.id != (user.id if user else -1)
    )):
        errors["username"] = _l("Somebody has this username already (deactivated users keep theirs).")
    if fields.role not in set(Role):
        errors["role"] = _l("Choose one of the listed roles.")
    elif user is not None and user.role == Role.ADMIN and user.active and fields.role != Role.ADMIN \
            and _active_admins() <= 1:
        errors["role"] = _l("This is the last active admin: make someone else an admin first.")
    branches = list(db.session.scalars(select(Branch).where(Branch.id.in_(list(fields.branch_ids)))))
    chosen = list(db.session.scalars(select(Department).where(Department.id.in_(list(fields.department_ids)))))
    if fields.role != Role.ADMIN:
        if not fields.all_branches and not branches:
            errors["branch_ids"] = _l("Choose the branches this person works for, or every branch.")
        if not chosen:
            errors["department_ids"] = _l("Choose at least one department: without one they see no ticket.")
    if errors:
        raise PeopleError(errors)
    return branches, chosen


def _active_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))) or 0


def _apply(user: User, fields: UserFields, branches: list[Branch], chosen: list[Department]) -> None:
    user.username = fields.username.strip()
    user.display_name = fields.display_name.strip()
    user.email = (fields.email or "").strip() or None
    user.role = fields.role
    user.locale = fields.locale or None
    user.all_branches = fields.all_branches
    user.branches = [] if fields.all_branches else branches
    user.departments = chosen


def invite_user(actor: User, fields: UserFields) -> tuple[User, OutboxEmail | None]:
    """A new active user with no usable password yet, and the invitation e-mail with the link
    that sets it (None without an address: the admin shows the link instead)."""
    branches, chosen = _checked(fields, None)
    user = User(password_hash=_unusable_hash(), active=True)
    _apply(user, fields, branches, chosen)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "invite", user, after=user_values(user))
    email = email_password_link(user, PasswordLink(password_link(user), invitation=True), actor)
    return user, email


def update_user(actor: User, user: User, fields: UserFields) -> User:
    if user.id == actor.id and fields.role != Role.ADMIN:
        raise PeopleError({"role": _l("You cannot take away your own admin role: ask another admin.")})
    branches, chosen = _checked(fields, user)
    before = user_values(user)
    _apply(user, fields, branches, chosen)
    db.session.flush()
    audit.record(actor, "update", user, before=before, after=user_values(user))
    return user


def set_user_active(actor: User, user: User, active: bool) -> None:
    """(De)activate a user; an admin cannot deactivate themselves, nor the last active admin."""
    if not active:
        if user.id == actor.id:
            raise PeopleError({"active": _l("You cannot deactivate yourself: ask another admin.")})
        if user.role == Role.ADMIN and user.active and _active_admins() <= 1:
            raise PeopleError({"active": _l("This is the last active admin: make someone else an admin first.")})
    if user.active == active:
        return
    user.active = active
    if not active:
        user.end_sessions()
    db.session.flush()
    audit.record(actor, "activate" if active else "deactivate", user,
                 before={"active": not active}, after={"active": active})


def sign_out_everywhere(actor: User, user: User) -> None:
    """End every session and remember-me cookie of ``user`` (a lost tablet, a shared password)."""
    user.end_sessions()
    db.session.flush()
    audit.record(actor, "sign_out_everywhere", user, after={"session_version": user.session_version})


# --- Signing in ------------------------------------------------------------------------------

_dummy_hash: list[str] = []


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    An unknown username (or one without a usable password) costs one password hash too, so the
    time of a refusal does not tell which usernames exist.
    """
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None or user.password_hash.startswith(UNUSABLE_PREFIX):
        if not _dummy_hash:
            _dummy_hash.append(generate_password_hash(secrets.token_hex(16)))
        check_password_hash(_dummy_hash[0], password)
        return None
    return user if user.check_password(password) and user.active else None


# --- Passwords and their links -------------------------------------------------------------


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused (the message for the field); None when it is fine."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=PASSWORD_MAX_LENGTH)
    if username and password.strip().lower() == username.strip().lower():
        return _l("Your password cannot be your username.")
    return None


def _unusable_hash() -> str:
    return UNUSABLE_PREFIX + secrets.token_hex(32)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"])


def _salt(user: User) -> str:
    return f"loopdesk-set-password:{user.password_hash}"


@dataclass(frozen=True)
class PasswordLink:
    url: str
    #: For a user who never signed in: the e-mail is an invitation, the audit entry "invite".
    invitation: bool


def issue_password_link(actor: User, user: User, how: str) -> PasswordLink:
    """A new set-password link for ``user``; ``how`` ("email" or "shown") is audited.

    Replaces the password (and any earlier link) with an unusable value first: a user who
    never chose a password gets "invite" in the audit log, anybody else "reset_password".
    """
    if not user.active:
        raise PeopleError({"password": _l("Reactivate this user first.")})
    if how == "email" and not user.email:
        raise PeopleError({"password": _l("This user has no e-mail address: show the link and hand it over.")})
    invitation = password_pending(user) and user.last_login_at is None
    user.password_hash = _unusable_hash()
    user.end_sessions()  # the old password's sessions and remember-me cookies end with it
    db.session.flush()
    audit.record(actor, "invite" if invitation else "reset_password", user, after={"link": how})
    return PasswordLink(password_link(user), invitation)


def send_password_link(actor: User, user: User) -> OutboxEmail:
    """Reset (or invite again) by e-mail."""
    link = issue_password_link(actor, user, "email")
    email = email_password_link(user, link, actor)
    assert email is not None, "issue_password_link refuses a user without an address"
    return email


def password_link(user: User) -> str:
    """The set-password link valid for ``user``'s current password hash."""
    token = _serializer().dumps(user.id, salt=_salt(user))
    return current_app.config["LOOPDESK_BASE_URL"] + url_for("auth.set_password", token=token)


def email_password_link(user: User, link: PasswordLink, invited_by: User | None) -> OutboxEmail | None:
    """The invitation or reset e-mail, in the user's language (the caller commits, then sends)."""
    locale = user.locale or current_app.config["LOOPDESK_DEFAULT_LOCALE"]
    days = PASSWORD_LINK_MAX_AGE.days
    with force_locale(locale):
        if link.invitation:
            subject = _("You are invited to Loopdesk")
            opening = _("%(admin)s invited you to Loopdesk, where your team answers customer feedback.",
                        admin=(invited_by.display_name or invited_by.username) if invited_by else "Loopdesk")
        else:
            subject = _("Choose a new Loopdesk password")
            opening = _("An admin reset your Loopdesk password. Your old password no longer works.")
        body = "\n\n".join([
            _("Hello %(name)s,", name=user.display_name or user.username),
            opening,
            _("Choose your password here. The link works once, for %(days)d days:", days=days),
            link.url,
            _("Your username: %(username)s", username=user.username),
            _("If you did not expect this e-mail, tell your admin."),
        ])
    return notifications.email_user(user, subject, body)


class LinkProblem(ValueError):
    """A set-password link that does not work; ``str()`` is the message for the page."""


def user_for_link(token: str) -> User:
    """The active user a set-password link is for; ``LinkProblem`` when it is not (any more) valid."""
    serializer = _serializer()
    _signed, user_id = serializer.loads_unsafe(token)
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise LinkProblem(_l("This link does not work. Ask an admin for a new one."))
    try:
        serializer.loads(token, salt=_salt(user), max_age=int(PASSWORD_LINK_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise LinkProblem(_l(
            "This link has expired: links work for %(days)d days. Ask an admin for a new one.",
            days=PASSWORD_LINK_MAX_AGE.days,
        )) from None
    except BadSignature:
        raise LinkProblem(_l(
            "This link was used already or replaced by a newer one. Sign in, or ask an admin for a new link."
        )) from None
    return user


def set_password_from_link(user: User, password: str) -> None:
    """Set the password chosen through a link (which stops working: the hash, its salt, changed)."""
    problem = password_problem(password, user.username)
    if problem:
        raise PeopleError({"password": problem})
    user.set_password(password)
    db.session.flush()
