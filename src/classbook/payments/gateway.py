"""The payment gateway, as Classbook needs it: a small interface and its value types.

``classbook.payments.stripe_gateway.StripeGateway`` implements it with the official
``stripe`` SDK (against Stripe, or localstripe on 127.0.0.1 in the demo and tests).
Our correctness never depends on the gateway honouring idempotency keys (localstripe
ignores them): every attempt is committed before money can move and is settled by
retrieving what the gateway knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class GatewayUnavailable(Exception):
    """The gateway could not be reached or did not answer: the outcome is unknown."""


class CardDeclined(Exception):
    """The gateway refused the payment; ``str()`` is its reason, for the person."""

    def __init__(self, message: str, code: str = ""):
        self.code = code
        super().__init__(message)


class GatewayRefused(Exception):
    """The gateway rejected a request (bad parameters, unknown object)."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # succeeded, processing, requires_*, canceled
    amount_cents: int
    currency: str
    metadata: dict = field(default_factory=dict)
    charge_id: str = ""
    failure_message: str = ""
    created: datetime | None = None
    amount_refunded_cents: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        return self.status in ("requires_payment_method", "canceled")


@dataclass(frozen=True)
class Refund:
    id: str
    intent_id: str
    charge_id: str
    amount_cents: int
    status: str
    created: datetime | None = None
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SavedMethod:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Gateway(Protocol):
    def create_customer(self, *, email: str, name: str, metadata: dict) -> str: ...

    def attach_payment_method(self, *, customer_id: str, payment_method_id: str) -> SavedMethod: ...

    def create_setup_intent(self, *, customer_id: str) -> tuple[str, str]: ...

    def describe_payment_method(self, *, payment_method_id: str) -> SavedMethod: ...

    def create_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method_id: str,
        customer_id: str | None,
        metadata: dict,
        idempotency_key: str,
    ) -> Intent: ...

    def confirm_intent(self, *, intent_id: str) -> Intent: ...

    def retrieve_intent(self, *, intent_id: str) -> Intent: ...

    def refund(
        self, *, intent_id: str, amount_cents: int, metadata: dict, idempotency_key: str
    ) -> Refund: ...

    def list_intents(self, *, since: datetime) -> list[Intent]: ...

    def list_refunds(self, *, since: datetime) -> list[Refund]: ...

    def verify_webhook(self, *, payload: bytes, signature: str) -> dict: ...
