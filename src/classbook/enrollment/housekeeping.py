"""Enrollment steps of the worker's periodic housekeeping."""

from datetime import timedelta

from classbook.catalog.models import CampDay, Class
from classbook.core import clock
from classbook.core.housekeeping import step
from classbook.enrollment.models import Hold, WaitlistEntry

OLD_HOLDS = timedelta(hours=1)


@step("enrollment_offers", per_account=True)
def expire_offers_and_offer_free_seats() -> int:
    """Expired offers pass to the next family; seats freed by expired holds are offered.

    Expired holds and offers stopped counting at their instant already; this only moves
    the waitlist along.
    """
    from classbook.enrollment.services import offers_expire, waitlist_offer_seats

    count = offers_expire()
    waiting = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
    for klass in Class.objects.filter(pk__in=waiting.values("klass_id")):
        count += len(waitlist_offer_seats(klass=klass))
    for day in CampDay.objects.filter(pk__in=waiting.values("camp_day_id")):
        count += len(waitlist_offer_seats(camp_day=day))
    return count


@step("old_holds", per_account=True)
def delete_old_holds() -> int:
    deleted, _ = Hold.objects.filter(expires_at__lt=clock.now() - OLD_HOLDS).delete()
    return deleted
