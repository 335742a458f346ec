import zoneinfo
from datetime import date

from django.shortcuts import render

from classbook.accounts.models import User
from classbook.audit.actions import ACTIONS, areas
from classbook.audit.selectors import LogFilter, log_page
from classbook.staff import permissions as perms
from classbook.staff.access import office_view


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@office_view(perms.VIEW_AUDIT)
def log(request):
    params = request.GET
    actor = params.get("person", "")
    filters = LogFilter(
        actor_id=int(actor) if actor.isascii() and actor.isdigit() else None,
        action=params.get("action", "").strip(),
        object_type=params.get("object_type", "").strip(),
        object_id=params.get("object_id", "").strip(),
        date_from=_date(params.get("from", "")),
        date_to=_date(params.get("to", "")),
    )
    errors = [
        f"“{params[key]}” is not a date (use YYYY-MM-DD)."
        for key in ("from", "to")
        if params.get(key) and _date(params[key]) is None
    ]
    page = log_page(
        filters, tz=zoneinfo.ZoneInfo(request.account.timezone), cursor=params.get("after", "")
    )
    query = params.copy()
    query.pop("after", None)
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "people": User.objects.exclude(kind=User.Kind.PLATFORM).order_by("first_name"),
            "actions": sorted(ACTIONS.items()),
            "areas": areas(),
            "query": query.urlencode(),
            "first_page": not params.get("after"),
        },
    )
