"""Shared set-up for the payments page tests (a family owing tuition, signed webhooks)."""

import hashlib
import hmac
import json
import time
import urllib.request
from datetime import timedelta

from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.families.models import Guardian
from classbook.ledger import services as ledger
from tests.ledger.helpers import make_family

WEBHOOK_SECRET = "whsec_classbook_tests"  # the ``gateway`` fixture's


def family_owing(account, cents: int = 8000, name: str = "Garcia"):
    """A family with a primary guardian and ``cents`` of tuition due five days ago."""
    with activate_account(account):
        family = make_family(name)
        Guardian.objects.create(
            family=family,
            first_name="Ana",
            last_name=name,
            email=f"ana@{name.lower()}.example",
            is_primary=True,
        )
        ledger.charge_post(
            family=family,
            charge_type="tuition",
            amount_cents=cents,
            description="Tuition",
            entry_date=clock.account_today() - timedelta(days=5),
        )
        return family


def office_url(account, tail: str) -> str:
    return f"/{account.slug}/office/payments/{tail}"


def ledger_url(account, family, tail: str = "") -> str:
    return f"/{account.slug}/office/ledger/families/{family.pk}/{tail}"


def signed(event: dict, secret: str = WEBHOOK_SECRET, *, at: int | None = None):
    """(body, Stripe-Signature header) as the gateway sends them."""
    body = json.dumps(event).encode()
    timestamp = at or int(time.time())
    digest = hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"


def event(event_type: str, obj: dict, event_id: str = "evt_test_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def reset_sandbox(sandbox_url: str) -> None:
    """Forget every object in the sandbox (tests that compare gateway totals)."""
    request = urllib.request.Request(f"{sandbox_url}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=10).read()
