"""The office's current location (the switcher in the top bar), kept in the session."""

from classbook.accounts.models import Location

LOCATION_SESSION_KEY = "office_location_id"


def current_location(request) -> Location | None:
    """The chosen location, if this person may still work there; None means all."""
    from classbook.staff.selectors import allowed_location_ids, locations_for

    allowed = locations_for(request.user)
    location_id = request.session.get(LOCATION_SESSION_KEY)
    location = allowed.filter(pk=location_id).first() if location_id is not None else None
    if location is None and allowed_location_ids(request.user) is not None:
        return allowed.first()  # limited staff always work at one of their locations
    return location
