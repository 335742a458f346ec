"""Log-in for people of the active account (or, with none active, platform operators)."""

import secrets

from django.contrib.auth.backends import BaseBackend
from django.db.models import Q

from classbook.accounts.models import User


class AccountUserBackend(BaseBackend):
    """Usernames are unique per account, so the account comes from the URL being served."""

    def authenticate(self, request, username=None, password=None, kind=None, **kwargs):
        if not username or password is None or kind is None:
            return None
        login = username.strip()
        # The scoped manager limits this to the active account (or operators).
        user = (
            User.objects.filter(kind=kind)
            .filter(Q(username__iexact=login) | Q(email__iexact=login))
            .order_by("pk")
            .first()
        )
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()


def generate_one_time_password() -> str:
    return secrets.token_urlsafe(12)
