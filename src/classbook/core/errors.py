"""Errors shared by all apps."""


class ClassbookError(Exception):
    """Base for errors whose message may be shown to the person who caused them."""


class TenancyError(ClassbookError):
    """Code tried to touch tenant data without, or across, the active account."""


class ValidationFailed(ClassbookError):
    """A service refused its input; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))


def validated(instance, *, exclude=None) -> None:
    """``full_clean()`` a model instance; field errors become ValidationFailed."""
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from None
