"""The cart key in the parent's session (one cart per account), and what the parent told
us about each held seat's child before signing in."""

from __future__ import annotations

import secrets

SESSION_CARTS = "portal_carts"  # {account id: cart key}
SESSION_CHILDREN = "portal_cart_children"  # {hold id: {"dob": ..., "gender": ..., ...}}
SESSION_DONE = "portal_checkouts"  # checkout ids this browser completed (confirmation page)


def cart_key(request, *, create: bool = False) -> str:
    carts = request.session.get(SESSION_CARTS, {})
    key = carts.get(str(request.account.pk), "")
    if not key and create:
        key = secrets.token_urlsafe(24)
        request.session[SESSION_CARTS] = {**carts, str(request.account.pk): key}
    return key


def cart_new(request) -> None:
    """A checked-out cart is finished: the next seat goes into a fresh cart."""
    carts = dict(request.session.get(SESSION_CARTS, {}))
    carts.pop(str(request.account.pk), None)
    request.session[SESSION_CARTS] = carts
    request.session.pop(SESSION_CHILDREN, None)


def remember_child(request, hold_id: int, *, dob: str, gender: str, level_id, label: str) -> None:
    children = dict(request.session.get(SESSION_CHILDREN, {}))
    children[str(hold_id)] = {"dob": dob, "gender": gender, "level": level_id, "label": label}
    request.session[SESSION_CHILDREN] = children


def children(request) -> dict[str, dict]:
    return request.session.get(SESSION_CHILDREN, {})


def remember_checkout(request, checkout_id: int) -> None:
    done = list(request.session.get(SESSION_DONE, []))[-9:]
    request.session[SESSION_DONE] = [*done, checkout_id]


def completed_here(request, checkout_id: int) -> bool:
    return checkout_id in request.session.get(SESSION_DONE, [])
