"""What every office page's frame shows: location and account switchers, user menu.

The account switcher lists the businesses this browser has signed in to (a signed
cookie), because each business has its own staff logins and sessions.
"""

from django.core import signing

from classbook.office.location_context import current_location

KNOWN_ACCOUNTS_COOKIE = "classbook_accounts"
_MAX_KNOWN = 10
_SALT = "classbook.office.known-accounts"


def known_accounts(request) -> list[dict]:
    try:
        value = signing.loads(request.COOKIES.get(KNOWN_ACCOUNTS_COOKIE, ""), salt=_SALT)
    except signing.BadSignature:
        return []
    return [item for item in value if isinstance(item, dict) and {"slug", "name"} <= set(item)]


def remember_account(request, response) -> None:
    account = request.account
    entries = [e for e in known_accounts(request) if e["slug"] != account.slug]
    entries.insert(0, {"slug": account.slug, "name": account.name})
    response.set_cookie(
        KNOWN_ACCOUNTS_COOKIE,
        signing.dumps(entries[:_MAX_KNOWN], salt=_SALT),
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def office_chrome(request) -> dict:
    """Only for office pages with a staff identity (set by staff.access.office_view)."""
    from classbook.staff.selectors import effective_permissions, locations_for

    user = getattr(request, "user", None)
    account = getattr(request, "account", None)
    if not getattr(request, "is_office_page", False) or not user.is_authenticated:
        return {}
    return {
        "office_locations": list(locations_for(user).only("id", "name")),
        "office_location": current_location(request),
        "office_other_accounts": [a for a in known_accounts(request) if a["slug"] != account.slug],
        "office_perms": effective_permissions(user),
        "support_visit": getattr(request, "support_visit", None),
    }
