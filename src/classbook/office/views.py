"""Office pages owned by no single domain app: log-in, dashboard, locations."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classbook.accounts import selectors
from classbook.accounts.models import Location, User
from classbook.accounts.services import location_save, user_change_password
from classbook.core.errors import ValidationFailed
from classbook.core.forms import LoginForm, add_service_errors
from classbook.core.urls import account_reverse
from classbook.office.access import SESSION_ACCOUNT_KEY, staff_required
from classbook.office.chrome import remember_account
from classbook.office.forms import LocationForm
from classbook.office.location_context import LOCATION_SESSION_KEY

PAGE_SIZE = 25


def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            kind=User.Kind.STAFF,
        )
        if user is None:
            form.add_error(
                None,
                "That username and password do not match an active staff login of this business.",
            )
        else:
            login(request, user)
            request.session[SESSION_ACCOUNT_KEY] = request.account.pk
            target = request.POST.get("next") or request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(
                target, {request.get_host()}, require_https=request.is_secure()
            ):
                target = account_reverse("office:dashboard")
            response = redirect(target)
            remember_account(request, response)
            return response
    return render(
        request,
        "office/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect(account_reverse("office:login"))


@staff_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_change_password(
            user=request.user, new_password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(request, user)
        messages.success(request, "Your password was changed.")
        return redirect(account_reverse("office:dashboard"))
    return render(
        request, "office/password_change.html", {"form": form}, status=400 if form.errors else 200
    )


password_change.allows_password_change = True


@staff_required
def dashboard(request):
    account = request.account
    locations = list(selectors.location_list())
    local_now = timezone.localtime(timezone=_zone(account.timezone))
    return render(
        request,
        "office/dashboard.html",
        {
            "locations": locations,
            "staff_count": selectors.staff_list().filter(is_active=True).count(),
            "local_now": local_now,
        },
    )


def _zone(name):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


@staff_required
@require_POST
def switch_location(request):
    raw = request.POST.get("location", "")
    if raw == "":
        request.session.pop(LOCATION_SESSION_KEY, None)
        messages.info(request, "Showing all locations.")
    else:
        location = Location.objects.filter(
            pk=raw if raw.isdigit() else None, is_active=True
        ).first()
        if location is None:
            raise Http404("No such location")
        request.session[LOCATION_SESSION_KEY] = location.pk
        messages.info(request, f"Working at {location.name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = account_reverse("office:dashboard")
    return redirect(target)


@staff_required
def location_list(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.location_list(search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "office/location_list.html", {"page": page, "search": search})


@staff_required
def location_detail(request, location_id: int):
    location = get_object_or_404(Location, pk=location_id)
    return render(request, "office/location_detail.html", {"location": location})


@staff_required
def location_create(request):
    return _location_form(request, None)


@staff_required
def location_edit(request, location_id: int):
    return _location_form(request, get_object_or_404(Location, pk=location_id))


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
