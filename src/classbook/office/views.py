"""Office pages owned by no single domain app: dashboard, location switcher, locations."""

import zoneinfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classbook.accounts import selectors
from classbook.accounts.models import Location
from classbook.accounts.services import location_save
from classbook.audit.selectors import object_history
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.office.forms import LocationForm
from classbook.office.location_context import LOCATION_SESSION_KEY
from classbook.staff import permissions as perms
from classbook.staff.access import ANY_STAFF, office_view
from classbook.staff.selectors import allowed_location_ids, locations_for

PAGE_SIZE = 25


@office_view(perms.VIEW_DASHBOARD)
def dashboard(request):
    account = request.account
    local_now = timezone.localtime(timezone=zoneinfo.ZoneInfo(account.timezone))
    return render(
        request,
        "office/dashboard.html",
        {
            "locations": list(_visible_locations(request)),
            "staff_count": selectors.staff_list().filter(is_active=True).count(),
            "local_now": local_now,
        },
    )


def _visible_locations(request):
    """All locations, or only those this person is limited to."""
    allowed = allowed_location_ids(request.user)
    queryset = selectors.location_list()
    return queryset if allowed is None else queryset.filter(pk__in=allowed)


@office_view(ANY_STAFF)
@require_POST
def switch_location(request):
    raw = request.POST.get("location", "")
    if raw == "":
        if allowed_location_ids(request.user) is not None:
            raise Http404("Choose one of your locations")
        request.session.pop(LOCATION_SESSION_KEY, None)
        messages.info(request, "Showing all locations.")
    else:
        location = (
            locations_for(request.user)
            .filter(pk=raw if raw.isascii() and raw.isdigit() else None)
            .first()
        )
        if location is None:
            raise Http404("No such location")
        request.session[LOCATION_SESSION_KEY] = location.pk
        messages.info(request, f"Working at {location.name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = account_reverse("office:dashboard")
    return redirect(target)


@office_view(perms.MANAGE_SETTINGS)
def location_list(request):
    search = request.GET.get("q", "").strip()
    queryset = _visible_locations(request)
    if search:
        queryset = queryset & selectors.location_list(search=search)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "office/location_list.html", {"page": page, "search": search})


@office_view(perms.MANAGE_SETTINGS)
def location_detail(request, location_id: int):
    location = get_object_or_404(_visible_locations(request), pk=location_id)
    return render(
        request,
        "office/location_detail.html",
        {"location": location, "history": object_history(location)},
    )


@office_view(perms.MANAGE_SETTINGS)
def location_create(request):
    return _location_form(request, None)


@office_view(perms.MANAGE_SETTINGS)
def location_edit(request, location_id: int):
    return _location_form(request, get_object_or_404(_visible_locations(request), pk=location_id))


def _location_form(request, location: Location | None):
    initial = {"timezone": request.account.timezone} if location is None else None
    form = LocationForm(request.POST or None, instance=location, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = location_save(location=location, **form.cleaned_data)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Location “{saved.name}” saved.")
            return redirect(account_reverse("office:location_detail", location_id=saved.pk))
    return render(
        request,
        "office/location_form.html",
        {"form": form, "location": location},
        status=400 if form.errors else 200,
    )
