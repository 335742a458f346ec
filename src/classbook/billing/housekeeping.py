"""Billing steps of the worker's periodic housekeeping."""

from classbook.billing.models import BillingSettings
from classbook.core import clock
from classbook.core.housekeeping import step


@step("late_fees", per_account=True)
def assess_late_fees_once_a_day() -> int:
    from classbook.billing.services import late_fees_assess

    settings = BillingSettings.objects.first()
    today = clock.account_today()
    if settings is None or not settings.late_fee_cents or settings.late_fees_checked_on == today:
        return 0
    charged = late_fees_assess(today=today)
    BillingSettings.objects.filter(pk=settings.pk).update(late_fees_checked_on=today)
    return charged
