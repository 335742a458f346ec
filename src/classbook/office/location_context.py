"""The office's current location (the switcher in the top bar), kept in the session."""

from classbook.accounts.models import Location

LOCATION_SESSION_KEY = "office_location_id"


def current_location(request) -> Location | None:
    location_id = request.session.get(LOCATION_SESSION_KEY)
    if location_id is None:
        return None
    return Location.objects.filter(pk=location_id, is_active=True).first()
