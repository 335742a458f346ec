"""Encrypting secrets at rest (gateway keys): Fernet with a key derived from settings.

The key comes from CLASSBOOK_ENCRYPTION_KEY when set (so SECRET_KEY can rotate), else
from SECRET_KEY. Losing it makes stored gateway keys unreadable: they must be entered
again, nothing else is lost.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    material = settings.CLASSBOOK_ENCRYPTION_KEY or settings.SECRET_KEY
    key = hashlib.sha256(f"classbook-secrets:{material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted with the current key") from None
