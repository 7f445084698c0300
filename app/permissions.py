"""Who may see what: one place for every access rule, used by every view."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, false, or_

from app.models import ApiKey, Branch, Customer, Response, Role, Ticket, User


def role_required(*roles: Role) -> Callable:
    """Sign-in required, then one of ``roles`` (admins may do anything)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def branch_scope(who: User | ApiKey) -> list[int] | None:
    """The ids of the branches ``who`` sees; None for every branch (admins, head office, an all-branches key)."""
    if (isinstance(who, User) and who.role == Role.ADMIN) or who.all_branches:
        return None
    return [b.id for b in who.branches]


def scope_responses(query: Select, who: User | ApiKey) -> Select:
    """Limit a query on Response to the branches in the scope of a user or an API key.

    Admins and head-office users (all_branches) see every branch; everybody else
    sees only the branches they are assigned to, and nothing when they have none.
    An API key's branch scope reads the same way (it has no role).
    """
    branch_ids = branch_scope(who)
    if branch_ids is None:
        return query
    if not branch_ids:
        return query.where(false())
    return query.where(Response.branch_id.in_(branch_ids))


def scope_tickets(query: Select, who: User | ApiKey) -> Select:
    """Limit a query on Ticket to the departments and branches of a user, or the branches of an API key.

    Admins see every ticket; everybody else sees the tickets of one of their departments
    at one of their branches (every branch with all_branches), and nothing without a department.
    An API key has no departments: it is scoped by branch only, like scope_responses.
    """
    if isinstance(who, ApiKey):
        branch_ids = branch_scope(who)
        if branch_ids is None:
            return query
        return query.where(Ticket.branch_id.in_(branch_ids)) if branch_ids else query.where(false())
    user = who
    if user.role == Role.ADMIN:
        return query
    department_ids = [d.id for d in user.departments]
    branch_ids = [b.id for b in user.branches]
    if not department_ids or not (user.all_branches or branch_ids):
        return query.where(false())
    query = query.where(Ticket.department_id.in_(department_ids))
    return query if user.all_branches else query.where(Ticket.branch_id.in_(branch_ids))


def scope_customers(query: Select, user: User) -> Select:
    """Limit a query on Customer to those whose personal data the user may see.

    Admins and head-office users (all_branches) see every customer; everybody else the customers of
    one of their branches and those whose account owner they are. A customer with neither branch nor
    owner is head office's. (The customer pages are for supervisors and admins: ``role_required``.)
    """
    if user.role == Role.ADMIN or user.all_branches:
        return query
    branch_ids = [b.id for b in user.branches]
    mine = [Customer.owner_id == user.id]
    if branch_ids:
        mine.append(Customer.branches.any(Branch.id.in_(branch_ids)))
    return query.where(or_(*mine))


def can_manage_branch(user: User, branch: Branch) -> bool:
    """Admins manage every branch; supervisors the branches in their scope; staff none."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.SUPERVISOR:
        return False
    return user.all_branches or any(b.id == branch.id for b in user.branches)
