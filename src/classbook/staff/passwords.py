"""Password rules beyond Django's: no reuse of the last few passwords."""

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

HISTORY_LENGTH = 5


class NotReusedValidator:
    """Refuse the current password and the previous ``HISTORY_LENGTH`` ones."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        hashes = [user.password, *getattr(user, "password_history", [])]
        if any(h and check_password(password, h) for h in hashes):
            raise ValidationError(
                f"You used this password recently. Choose one you have not used in your "
                f"last {HISTORY_LENGTH} changes.",
                code="password_reused",
            )

    def get_help_text(self):
        return f"It must differ from your last {HISTORY_LENGTH} passwords."


def remember_current_password(user) -> None:
    """Push the current hash onto the history before a new password is set."""
    if user.password:
        user.password_history = [user.password, *user.password_history][:HISTORY_LENGTH]
