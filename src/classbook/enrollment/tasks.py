"""Background work of the enrollment engine."""

from classbook.catalog.models import CampDay, Class
from classbook.core.tasks import tenant_task


@tenant_task()
def offer_freed_seats(*, account, class_ids: list[int], camp_day_ids: list[int]) -> int:
    """After a seat was freed: offer it (and any other free seat) to the waitlist."""
    from classbook.enrollment.services import waitlist_offer_seats

    offered = 0
    for klass in Class.objects.filter(pk__in=class_ids):
        offered += len(waitlist_offer_seats(klass=klass))
    for day in CampDay.objects.filter(pk__in=camp_day_ids).select_related("camp"):
        offered += len(waitlist_offer_seats(camp_day=day))
    return offered
