"""Staff management pages: people, User Groups, log-in rules, two-factor set-up."""

import base64
from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from classbook.accounts.models import User
from classbook.audit.selectors import object_history
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.staff import permissions as perms
from classbook.staff import selectors, services
from classbook.staff.access import ANY_STAFF, forget_support_visit, office_view
from classbook.staff.auth_views import password_link
from classbook.staff.forms import (
    GroupForm,
    SecurityPolicyForm,
    StaffAccessForm,
    StaffInviteForm,
    TokenForm,
)
from classbook.staff.models import GroupMembership, LocationAccess, PermissionGrant, UserGroup

PAGE_SIZE = 25


def _staff_or_404(user_id: int) -> User:
    return get_object_or_404(User.objects.filter(kind=User.Kind.STAFF), pk=user_id)


@office_view(perms.MANAGE_STAFF)
def staff_list(request):
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    if status not in {"active", "inactive", "all"}:
        status = "active"
    group_id = request.GET.get("group", "")
    group_id = int(group_id) if group_id.isascii() and group_id.isdigit() else None
    directory = selectors.staff_directory(search=search, group_id=group_id, status=status)
    page = Paginator(directory, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/staff_list.html",
        {
            "page": page,
            "search": search,
            "status": status,
            "group_id": group_id,
            "groups": UserGroup.objects.all(),
        },
    )


@office_view(perms.MANAGE_STAFF)
def staff_invite(request):
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.staff_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                title=data["title"],
                group_ids=[g.pk for g in data["groups"]],
                permission_codes=data["permissions"],
                location_ids=[loc.pk for loc in data["locations"]],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            services.staff_send_password_link(
                user=person, link=password_link(request, person), invitation=True
            )
            messages.success(
                request,
                f"{person} is invited: we emailed {person.email} a link to choose a password.",
            )
            return redirect(account_reverse("staff:detail", user_id=person.pk))
    return render(
        request,
        "staff/staff_form.html",
        {"form": form, "person": None},
        status=400 if form.errors else 200,
    )


@office_view(perms.MANAGE_STAFF)
def staff_detail(request, user_id: int):
    person = _staff_or_404(user_id)
    return render(
        request,
        "staff/staff_detail.html",
        {
            "person": person,
            "groups": UserGroup.objects.filter(memberships__user=person),
            "grants": [
                perms.CATALOGUE[c]
                for c in PermissionGrant.objects.filter(user=person).values_list(
                    "permission", flat=True
                )
                if c in perms.CATALOGUE
            ],
            "effective": [
                p
                for p in perms.CATALOGUE.values()
                if p.code in selectors.effective_permissions(person)
            ],
            "locations": [
                a.location
                for a in LocationAccess.objects.filter(user=person).select_related("location")
            ],
            "has_two_factor": TOTPDevice.objects.filter(user=person, confirmed=True).exists(),
            "history": object_history(person),
        },
    )


@office_view(perms.MANAGE_STAFF)
def staff_edit(request, user_id: int):
    person = _staff_or_404(user_id)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "title": person.title,
        "groups": list(
            GroupMembership.objects.filter(user=person).values_list("group_id", flat=True)
        ),
        "permissions": list(
            PermissionGrant.objects.filter(user=person).values_list("permission", flat=True)
        ),
        "locations": list(
            LocationAccess.objects.filter(user=person).values_list("location_id", flat=True)
        ),
    }
    form = StaffAccessForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                user=person,
                by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                title=data["title"],
                group_ids=[g.pk for g in data["groups"]],
                permission_codes=data["permissions"],
                location_ids=[loc.pk for loc in data["locations"]],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{person} saved.")
            return redirect(account_reverse("staff:detail", user_id=person.pk))
    return render(
        request,
        "staff/staff_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


@office_view(perms.MANAGE_STAFF)
def staff_set_active(request, user_id: int, active: bool):
    person = _staff_or_404(user_id)
    if request.method != "POST":
        return render(
            request, "staff/staff_confirm_active.html", {"person": person, "active": active}
        )
    try:
        services.staff_set_active(user=person, by=request.user, active=active)
    except ValidationFailed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{person} is {'active again' if active else 'deactivated'}.")
    return redirect(account_reverse("staff:detail", user_id=person.pk))


@office_view(perms.MANAGE_STAFF)
@require_POST
def staff_send_link(request, user_id: int):
    person = _staff_or_404(user_id)
    if not person.email or not person.is_active:
        messages.error(request, f"{person} needs an email address and an active login first.")
    else:
        services.staff_send_password_link(
            user=person,
            link=password_link(request, person),
            invitation=not person.has_usable_password(),
        )
        messages.success(request, f"We emailed {person.email} a link to choose a password.")
    return redirect(account_reverse("staff:detail", user_id=person.pk))


@office_view(perms.MANAGE_STAFF)
@require_POST
def staff_remove_two_factor(request, user_id: int):
    person = _staff_or_404(user_id)
    services.two_factor_remove(user=person)
    messages.success(
        request,
        f"{person}'s authenticator was removed; they can set up a new one at their next log-in.",
    )
    return redirect(account_reverse("staff:detail", user_id=person.pk))


def _owners_only(request) -> None:
    """User Groups are the business's rights policy: only Owners change them."""
    if not selectors.is_owner(request.user):
        raise PermissionDenied("Only an Owner can change User Groups. Ask your account owner.")


@office_view(perms.MANAGE_STAFF)
def group_list(request):
    return render(
        request,
        "staff/group_list.html",
        {
            "groups": selectors.groups_with_counts(),
            "catalogue": perms.CATALOGUE,
            "is_owner": selectors.is_owner(request.user),
        },
    )


@office_view(perms.MANAGE_STAFF)
def group_create(request):
    _owners_only(request)
    return _group_form(request, None)


@office_view(perms.MANAGE_STAFF)
def group_edit(request, group_id: int):
    _owners_only(request)
    return _group_form(request, get_object_or_404(UserGroup, pk=group_id))


def _group_form(request, group: UserGroup | None):
    initial = (
        None
        if group is None
        else {
            "name": group.name,
            "description": group.description,
            "permissions": group.permissions,
        }
    )
    form = GroupForm(request.POST or None, initial=initial)
    if group is not None and group.is_owner:
        form.fields["permissions"].disabled = True
        form.fields["permissions"].help_text = "The Owner group always has every permission."
        form.initial["permissions"] = list(perms.CATALOGUE)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.group_save(
                group=group,
                name=data["name"],
                description=data["description"],
                permission_codes=group.permissions
                if group and group.is_owner
                else data["permissions"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"User Group “{saved.name}” saved.")
            return redirect(account_reverse("staff:groups"))
    return render(
        request,
        "staff/group_form.html",
        {"form": form, "group": group, "areas": perms.by_area()},
        status=400 if form.errors else 200,
    )


@office_view(perms.MANAGE_STAFF)
def group_delete(request, group_id: int):
    _owners_only(request)
    group = get_object_or_404(UserGroup, pk=group_id)
    if request.method != "POST":
        return render(
            request,
            "staff/group_confirm_delete.html",
            {"group": group, "members": User.objects.filter(group_memberships__group=group)},
        )
    try:
        services.group_delete(group=group)
    except ValidationFailed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"User Group “{group.name}” deleted.")
    return redirect(account_reverse("staff:groups"))


@office_view(perms.MANAGE_SETTINGS)
def security_policy(request):
    policy = selectors.security_policy()
    form = SecurityPolicyForm(
        request.POST or None, initial={"require_two_factor": policy.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        services.security_policy_update(require_two_factor=form.cleaned_data["require_two_factor"])
        messages.success(request, "Log-in rules saved.")
        return redirect(account_reverse("staff:security"))
    return render(request, "staff/security.html", {"form": form, "policy": policy})


@office_view(ANY_STAFF)
def two_factor_setup(request):
    if getattr(request, "support_visit", None) is not None:
        raise PermissionDenied(
            "Classbook support cannot change a person's authenticator; they set it up themselves."
        )
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice(
        user=user, name="Authenticator app", confirmed=False
    )
    if device.pk is None:
        device.save()
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            from django_otp import login as otp_login

            services.two_factor_confirm(user=user, device=device)
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on for your login.")
            return redirect(account_reverse("office:dashboard"))
        form.add_error(
            "code",
            "That code does not match. Scan the code again and enter the "
            "6 digits your app shows now.",
        )
    return render(
        request,
        "staff/two_factor_setup.html",
        {
            "form": form,
            "confirmed": confirmed,
            "qr_svg": _qr_svg(device.config_url),
            "secret": base64.b32encode(device.bin_key).decode(),
            "required": selectors.security_policy().require_two_factor,
        },
        status=400 if form.errors else 200,
    )


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@office_view(ANY_STAFF)
@require_POST
def support_visit_end(request):
    visit = getattr(request, "support_visit", None)
    if visit is None:
        return redirect(account_reverse("office:dashboard"))
    services.support_visit_end(visit=visit)
    forget_support_visit(request)
    messages.info(request, f"You left {request.account.name}'s office.")
    return redirect("platform:account_detail", account_id=request.account.pk)
