"""Template helpers for other apps' pages that show a family's money."""

from django import template

from classbook.core import clock
from classbook.ledger.selectors import family_balance

register = template.Library()


@register.simple_tag
def balance_of(family):
    """``{% balance_of family as figures %}``: balance, due now, credit, aging."""
    return family_balance(family, today=clock.account_today())
