"""Housekeeping: keep open-ended classes' meetings generated ``HORIZON_DAYS`` ahead."""

from django.db import transaction

from classbook.catalog.meetings import classes_needing_extension, sync_class_meetings
from classbook.core.housekeeping import step


@step("catalog_extend_meetings", per_account=True)
def extend_meetings() -> int:
    """Derived rows only (no audit entry); returns how many meetings were added."""
    due = classes_needing_extension()
    if not due:
        return 0
    with transaction.atomic():
        return sync_class_meetings(due).created
