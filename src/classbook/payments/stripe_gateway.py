"""The Stripe adapter (official ``stripe`` SDK); also drives localstripe."""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from classbook.payments.gateway import (
    CardDeclined,
    GatewayRefused,
    GatewayUnavailable,
    Intent,
    Refund,
    SavedMethod,
)

TIMEOUT_SECONDS = 20


def _when(timestamp) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


def _plain(value) -> dict:
    """A StripeObject (or nothing) as a plain dict."""
    if value is None:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _intent(pi) -> Intent:
    raw = _plain(pi)
    charge = raw.get("latest_charge") or {}
    if isinstance(charge, str):  # Stripe sends an id unless expanded; localstripe the object
        charge = {"id": charge}
    error = raw.get("last_payment_error") or {}
    return Intent(
        id=raw["id"],
        status=raw["status"],
        amount_cents=raw["amount"],
        currency=raw["currency"].upper(),
        metadata=raw.get("metadata") or {},
        charge_id=charge.get("id", ""),
        failure_message=error.get("message", "") or "",
        created=_when(raw.get("created")),
        amount_refunded_cents=charge.get("amount_refunded", 0) or 0,
    )


def _refund(raw: dict, intent_id: str = "") -> Refund:
    return Refund(
        id=raw["id"],
        intent_id=raw.get("payment_intent") or intent_id,
        charge_id=raw.get("charge") or "",
        amount_cents=raw["amount"],
        status=raw["status"],
        created=_when(raw.get("created")),
        metadata=raw.get("metadata") or {},
    )


class StripeGateway:
    def __init__(self, *, secret_key: str, api_base: str = "", webhook_secret: str = ""):
        addresses = {"api": api_base.rstrip("/")} if api_base else {}
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS) if _has_requests() else None,
        )
        self.webhook_secret = webhook_secret

    def _call(self, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except stripe.CardError as exc:
            raise CardDeclined(exc.user_message or str(exc), exc.code or "") from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.APIError as exc:  # 5xx from the gateway: outcome unknown
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayRefused(exc.user_message or str(exc)) from exc

    def create_customer(self, *, email: str, name: str, metadata: dict) -> str:
        customer = self._call(
            self.client.v1.customers.create,
            params={"email": email, "name": name, "metadata": metadata},
        )
        return customer.id

    def _method(self, pm) -> SavedMethod:
        card = _plain(pm).get("card") or {}
        return SavedMethod(
            id=pm.id,
            brand=card.get("brand", ""),
            last4=card.get("last4", ""),
            exp_month=card.get("exp_month", 0),
            exp_year=card.get("exp_year", 0),
        )

    def attach_payment_method(self, *, customer_id: str, payment_method_id: str) -> SavedMethod:
        pm = self._call(
            self.client.v1.payment_methods.attach,
            payment_method_id,
            params={"customer": customer_id},
        )
        return self._method(pm)

    def create_setup_intent(self, *, customer_id: str) -> tuple[str, str]:
        """(id, client secret) for the browser's ``confirmCardSetup``: the card goes from
        the browser to the gateway, which returns a payment method id."""
        intent = self._call(
            self.client.v1.setup_intents.create,
            params={"customer": customer_id, "usage": "off_session"},
        )
        return intent.id, intent.client_secret

    def describe_payment_method(self, *, payment_method_id: str) -> SavedMethod:
        return self._method(self._call(self.client.v1.payment_methods.retrieve, payment_method_id))

    def create_intent(
        self, *, amount_cents, currency, payment_method_id, customer_id, metadata, idempotency_key
    ) -> Intent:
        params = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "payment_method": payment_method_id,
            "metadata": metadata,
            "capture_method": "automatic",
        }
        if customer_id:
            params["customer"] = customer_id
        return _intent(
            self._call(
                self.client.v1.payment_intents.create,
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        )

    def confirm_intent(self, *, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.confirm, intent_id))

    def retrieve_intent(self, *, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def refund(self, *, intent_id, amount_cents, metadata, idempotency_key) -> Refund:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount_cents, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
        return _refund(_plain(refund), intent_id)

    def _all(self, service, params):
        """Every object of a list endpoint, newest first, page by page."""
        items, starting_after = [], None
        while True:
            page_params = {**params, "limit": 100}
            if starting_after:
                page_params["starting_after"] = starting_after
            page = self._call(service.list, params=page_params)
            items.extend(page.data)
            if not page.has_more or not page.data:
                return items
            starting_after = page.data[-1].id

    def list_intents(self, *, since: datetime) -> list[Intent]:
        threshold = since.timestamp()
        raws = [_plain(pi) for pi in self._all(self.client.v1.payment_intents, {})]
        return [_intent(raw) for raw in raws if (raw.get("created") or 0) >= threshold]

    def list_refunds(self, *, since: datetime) -> list[Refund]:
        threshold = since.timestamp()
        raws = [_plain(r) for r in self._all(self.client.v1.refunds, {})]
        return [_refund(raw) for raw in raws if (raw.get("created") or 0) >= threshold]

    def verify_webhook(self, *, payload: bytes, signature: str) -> dict:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise GatewayRefused(f"webhook refused: {exc}") from exc
        return _plain(event)


def _has_requests() -> bool:
    try:
        import requests  # noqa: F401
    except ImportError:
        return False
    return True
