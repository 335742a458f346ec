"""How the access matrix fills the portal's office URL parameters with account A's
objects (a checkout that needs review)."""


def _checkout(ctx):
    from classbook.portal.models import Checkout
    from tests.ledger.helpers import make_family

    return Checkout.objects.get_or_create(
        cart="matrix",
        defaults={
            "family": make_family("Matrix checkout"),
            "status": "seats_lost",
            "needs_review": True,
            "message": "Seat lost",
        },
    )[0]


PARAMS = {"checkout_id": lambda ctx: _checkout(ctx).pk}
