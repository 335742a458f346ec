import re

from django.core.exceptions import ValidationError

_PHONE_CHARS = re.compile(r"^[0-9+()\-.\s]+(?:\s*(?:x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)


def validate_phone(value: str) -> None:
    """Accept the ways people write phone numbers; require 7–15 digits."""
    if not value:
        return
    main = re.split(r"(?i)\s*(?:x|ext\.?)\s*\d", value)[0]
    digits = re.sub(r"\D", "", main)
    if not _PHONE_CHARS.match(value) or not 7 <= len(digits) <= 15:
        raise ValidationError("Enter a phone number such as (555) 201-3344 or +1 555 201 3344.")
