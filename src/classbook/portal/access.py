"""Who is looking at a portal page, and what the portal's mode lets them do.

* Public pages (home, finder, classes, calendar, camps, cart, checkout) need the portal to
  be **active**; in **off** and **setup** mode families see "registration is not open",
  while office staff of the account see a read-only **preview** (adding to the cart and
  checkout stay off, and every page says so).
* Family pages need a guardian login of this account. A session logged in to *another*
  account gets 404 (one business cannot probe another's family pages), except the
  dashboard's own address, which sends anyone not logged in here to this portal's log-in.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render

from classbook.accounts.models import User
from classbook.audit.context import Actor, acting_as, actor_for_user
from classbook.core import clock
from classbook.core.urls import account_reverse
from classbook.families.selectors import guardian_for_user
from classbook.portal import cart as carts
from classbook.portal.selectors import live_hold_count, portal_settings
from classbook.staff.access import SESSION_ACCOUNT_KEY


def _prepare(request) -> None:
    if hasattr(request, "portal"):
        return
    request.portal = portal_settings()
    user = request.user
    request.guardian = None
    request.staff_preview = False
    if user.is_authenticated and user.account_id == request.account.pk:
        if user.kind == User.Kind.GUARDIAN:
            request.guardian = guardian_for_user(user)
        elif user.kind == User.Kind.STAFF:
            request.staff_preview = True


def visitor_actor(request) -> Actor:
    if request.guardian is not None:
        return actor_for_user(request.user, request=request)
    return Actor(
        kind="guardian",
        label="Portal visitor (not signed in)",
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def _foreign_session(request) -> bool:
    return SESSION_KEY in request.session and (
        request.session.get(SESSION_ACCOUNT_KEY) != request.account.pk
    )


def portal_view(*, registration: bool = False):
    """A public portal page. ``registration``: part of finding and booking (closed to
    families unless the portal is active; staff preview it)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            _prepare(request)
            if registration and not request.portal.is_active and not request.staff_preview:
                return render_portal(request, "portal/closed.html", {}, status=200)
            with acting_as(visitor_actor(request)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate


def booking_allowed(request) -> bool:
    """Adding to the cart and checking out: only in an active portal (never in preview)."""
    _prepare(request)
    return request.portal.is_active


def refuse_in_preview(request):
    messages.warning(
        request,
        "This is a preview: adding to the cart and checkout are turned off until the "
        "portal is active.",
    )
    return redirect(account_reverse("portal:home"))


def family_view(view=None, *, redirect_foreign: bool = False):
    """A page of the signed-in guardian's family (sets ``request.guardian`` and
    ``request.family``, and acts as the guardian for the audit log)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            _prepare(request)
            user = request.user
            ours = (
                user.is_authenticated
                and user.kind == User.Kind.GUARDIAN
                and user.account_id == request.account.pk
            )
            if not ours:
                if _foreign_session(request) and not redirect_foreign:
                    raise Http404("Not found")
                return redirect_to_login(request.get_full_path(), account_reverse("portal:login"))
            if request.guardian is None:
                logout(request)
                messages.info(request, "This portal login is no longer in use; ask the business.")
                return redirect(account_reverse("portal:login"))
            request.family = request.guardian.family
            with acting_as(actor_for_user(user, request=request)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def render_portal(request, template: str, context: dict, status: int = 200):
    _prepare(request)
    cart = carts.cart_key(request)
    return render(
        request,
        template,
        {
            "portal": request.portal,
            "preview": not request.portal.is_active,
            "staff_preview": request.staff_preview,
            "guardian": request.guardian,
            "cart_count": live_hold_count(cart, now=clock.now()) if cart else 0,
            **context,
        },
        status=status,
    )
