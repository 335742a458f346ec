"""Emails to families about their waitlist offers."""

from django.core.mail import send_mail

from classbook.enrollment.models import WaitlistEntry
from classbook.families.selectors import guardian_to_email


def send_offer_notices(entry_ids: list[int]) -> None:
    for entry in WaitlistEntry.objects.filter(pk__in=entry_ids).select_related(
        "student__family", "klass", "camp_day__camp", "account"
    ):
        guardian = guardian_to_email(entry.student.family)
        if guardian is None:
            continue
        place = entry.klass or entry.camp_day
        send_mail(
            subject=f"{entry.account.name}: a seat opened for {entry.student.first_name}",
            message=(
                f"Hello {guardian.first_name},\n\nA seat opened in {place} and it is "
                f"held for {entry.student.first_name} until "
                f"{entry.offer_expires_at:%b %-d at %-I:%M %p} (UTC). Sign in to the "
                f"family portal to claim it, or call us.\n\n{entry.account.name}"
            ),
            from_email=None,
            recipient_list=[guardian.email],
        )
