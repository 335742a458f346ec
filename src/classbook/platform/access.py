import functools

from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from classbook.audit.context import acting_as, actor_for_user
from classbook.staff.access import PUBLIC


def platform_public(view):
    """The operator log-in and log-out pages."""
    view.classbook_access = PUBLIC
    return view


def operator_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_platform_operator:
            with acting_as(actor_for_user(user, request=request)):
                return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path(), reverse("platform:login"))

    wrapper.classbook_access = "platform-operator"
    return wrapper
