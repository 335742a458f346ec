"""``office_view``: every office page says which permission it needs.

    @office_view(perms.VIEW_FAMILIES)      staff of this account with that permission
    @office_view(ANY_STAFF)                any active staff login of this account
    @office_view(PUBLIC)                   log-in and password-reset pages

Anonymous visitors go to the log-in page; a session of another account gets 404; staff
without the permission get a 403 page naming it. The decorator also sets the audit actor
(staff member, or the platform operator on a support visit acting as one).
"""

from __future__ import annotations

import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect

from classbook.accounts.models import User
from classbook.audit.context import acting_as, actor_for_user
from classbook.core.urls import account_reverse
from classbook.staff.permissions import Permission
from classbook.staff.selectors import has_permission, open_support_visit, security_policy

SESSION_ACCOUNT_KEY = "classbook_account_id"
SUPPORT_VISITS_KEY = "classbook_support_visits"  # {account id: open visit id}

ANY_STAFF = "any-staff"
PUBLIC = "public"

# Pages a person must still reach while their log-in is incomplete.
SETUP_VIEWS = {"password_change", "two_factor_setup", "logout", "support_visit_end"}


def remember_support_visit(request, visit) -> None:
    visits = dict(request.session.get(SUPPORT_VISITS_KEY, {}))
    visits[str(visit.account_id)] = visit.pk
    request.session[SUPPORT_VISITS_KEY] = visits


def forget_support_visit(request) -> None:
    visits = dict(request.session.get(SUPPORT_VISITS_KEY, {}))
    visits.pop(str(request.account.pk), None)
    request.session[SUPPORT_VISITS_KEY] = visits


def _support_visit(request):
    """The open support visit this operator's session has in this account, if any.

    Visits are kept per account, so looking at another account's office never loses
    (strands) an open visit here."""
    visit_id = request.session.get(SUPPORT_VISITS_KEY, {}).get(str(request.account.pk))
    if not visit_id:
        return None
    visit = open_support_visit(visit_id)
    session_user = request.session.get(SESSION_KEY)
    if visit is None or str(visit.operator_id) != str(session_user):
        forget_support_visit(request)
        return None
    return visit


def office_user(request) -> User | None:
    """The staff identity of this request (a support visit acts as its chosen person)."""
    request.support_visit = _support_visit(request)
    if request.support_visit is not None:
        request.user = request.support_visit.acting_as
        return request.user
    user = request.user
    if (
        user.is_authenticated
        and user.kind == User.Kind.STAFF
        and user.account_id == request.account.pk
    ):
        return user
    return None


def office_view(requirement: Permission | str):
    if not isinstance(requirement, Permission) and requirement not in (ANY_STAFF, PUBLIC):
        raise TypeError(f"office_view needs a Permission, ANY_STAFF or PUBLIC, not {requirement!r}")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if requirement == PUBLIC:
                return view(request, *args, **kwargs)
            user = office_user(request)
            if user is None:
                if SESSION_KEY in request.session and (
                    request.session.get(SESSION_ACCOUNT_KEY) != request.account.pk
                ):
                    raise Http404("Not found")
                return redirect_to_login(request.get_full_path(), account_reverse("office:login"))
            impersonator = request.support_visit.operator if request.support_visit else None
            if impersonator is None:
                detour = _incomplete_login_detour(request, user, view.__name__)
                if detour is not None:
                    return detour
            if isinstance(requirement, Permission) and not has_permission(user, requirement):
                raise PermissionDenied(
                    f"This page needs the “{requirement.label}” permission, which your "
                    "login does not have. Ask your account owner to add it."
                )
            request.is_office_page = True  # office.chrome fills the page frame
            with acting_as(actor_for_user(user, impersonator=impersonator, request=request)):
                return view(request, *args, **kwargs)

        wrapper.classbook_access = requirement
        return wrapper

    return decorate


def _incomplete_login_detour(request, user: User, view_name: str):
    if view_name in SETUP_VIEWS:
        return None
    if user.must_change_password:
        return redirect(account_reverse("office:password_change"))
    if security_policy().require_two_factor and not request.user.is_verified():
        return redirect(account_reverse("staff:two_factor_setup"))
    return None
