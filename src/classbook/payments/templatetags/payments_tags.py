"""What the family ledger page shows of card payments (``{% load payments_tags %}``):
the "Take card payment" button, cards on file, payments not confirmed yet, and which
payments are refunded through the gateway. Card options are replaced by a clear message
when the account has no gateway settings."""

from django import template

from classbook.payments import selectors
from classbook.staff import permissions as perms
from classbook.staff.selectors import has_permission

register = template.Library()


def _ready() -> bool:
    current = selectors.gateway_settings()
    return current is not None and bool(current.secret_key_encrypted)


def _base(context, family) -> dict:
    request = context["request"]
    return {
        "request": request,
        "account": request.account,
        "family": family,
        "gateway_ready": _ready(),
        "can_take": has_permission(request.user, perms.TAKE_PAYMENTS),
        "can_configure": has_permission(request.user, perms.MANAGE_SETTINGS),
    }


@register.inclusion_tag("payments/_take_button.html", takes_context=True)
def card_payment_button(context, family):
    return _base(context, family)


@register.inclusion_tag("payments/_cards_on_file.html", takes_context=True)
def cards_on_file(context, family):
    values = _base(context, family)
    values["cards"] = selectors.saved_cards(family) if values["gateway_ready"] else []
    return values


@register.inclusion_tag("payments/_unconfirmed.html", takes_context=True)
def unconfirmed_payments(context, family):
    """Card payments whose outcome is not known yet, shown as pending."""
    values = _base(context, family)
    values["unsettled"] = selectors.unsettled_attempts(family)
    return values


@register.simple_tag
def gateway_payment_ids(family) -> set[int]:
    """``{% gateway_payment_ids family as card_ids %}``: payments refunded at the gateway."""
    return selectors.gateway_payment_ids(family)
