"""Forms of the office payment pages. Card numbers never appear here: the browser sends
them to the gateway and posts only the payment-method id it gets back."""

from __future__ import annotations

import re
import secrets
from datetime import date

from django import forms

from classbook.accounts.models import Location
from classbook.core import clock
from classbook.ledger.forms import AmountField
from classbook.ledger.models import LedgerEntry
from classbook.payments.models import GatewaySettings, SavedCard

PAYMENT_METHOD_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,96}$")
MAX_RETRY_DAYS = 60


def new_request_token() -> str:
    """A one-time token per rendering of a payment form (double submits find it)."""
    return secrets.token_urlsafe(24)


class GatewaySettingsForm(forms.Form):
    mode = forms.ChoiceField(choices=GatewaySettings.Mode.choices)
    publishable_key = forms.CharField(
        max_length=200, help_text="Starts with pk_. The browser uses it to reach the gateway."
    )
    secret_key = forms.CharField(
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Starts with sk_ or rk_. Stored encrypted and never shown again.",
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Starts with whsec_. Stored encrypted and never shown again.",
    )
    api_base = forms.URLField(
        label="Sandbox address",
        required=False,
        assume_scheme="http",
        help_text="Empty for Stripe itself; the localstripe sandbox's address "
        "(such as http://127.0.0.1:8420) for the demo and tests.",
    )
    duplicate_policy = forms.ChoiceField(
        label="When a payment is charged twice", choices=GatewaySettings.DuplicatePolicy.choices
    )
    autopay_retry_days = forms.CharField(
        label="Retry a declined autopay after (days)",
        required=False,
        help_text="Days after the first try, separated by commas, such as 1, 3, 7.",
    )

    def __init__(self, *args, has_secret_key: bool, has_webhook_secret: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if has_secret_key:
            self.fields[
                "secret_key"
            ].help_text = (
                "A secret key is saved. Leave this empty to keep it; type a new one to replace it."
            )
        else:
            self.fields["secret_key"].required = True
        if has_webhook_secret:
            self.fields[
                "webhook_secret"
            ].help_text = "A webhook secret is saved. Leave this empty to keep it."

    def clean_publishable_key(self):
        key = self.cleaned_data["publishable_key"].strip()
        if not key.startswith("pk_"):
            raise forms.ValidationError("A publishable key starts with pk_.")
        return key

    def clean_secret_key(self):
        key = self.cleaned_data["secret_key"]
        if key and not key.startswith(("sk_", "rk_")):
            raise forms.ValidationError("A secret key starts with sk_ or rk_.")
        return key

    def clean_webhook_secret(self):
        secret = self.cleaned_data["webhook_secret"]
        if secret and not secret.startswith("whsec_"):
            raise forms.ValidationError("A webhook signing secret starts with whsec_.")
        return secret

    def clean_autopay_retry_days(self) -> list[int]:
        raw = self.cleaned_data["autopay_retry_days"]
        days = []
        for part in re.split(r"[,\s]+", raw.strip()):
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= MAX_RETRY_DAYS:
                raise forms.ValidationError(
                    f"Enter whole days from 1 to {MAX_RETRY_DAYS}, such as 1, 3, 7."
                )
            days.append(int(part))
        if len(days) > 10:
            raise forms.ValidationError("At most 10 retries.")
        return sorted(set(days))


class CardPaymentForm(forms.Form):
    """Amount, location and the one-time token; the card comes from ``CardSourceForm``."""

    amount = AmountField()
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="— (no location)"
    )
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=48)
    # The newest attempt of the family when the page was opened (another tab's payment).
    opened_after = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = account.currency
        self.fields["amount"].label = f"Amount ({account.currency})"
        self.fields["location"].queryset = Location.objects.filter(is_active=True)

    def clean_request_token(self):
        token = self.cleaned_data["request_token"]
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,48}", token):
            raise forms.ValidationError("This form expired. Reload the page and try again.")
        return token


class ApplyForm(forms.Form):
    """How much of the payment goes to each open charge (empty: oldest first)."""

    def __init__(self, *args, account, open_charges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.open_charges = list(open_charges)
        for item in self.open_charges:
            self.fields[f"apply_{item.entry.pk}"] = AmountField(
                currency=account.currency,
                required=False,
                label=f"{item.entry.description} (open {item.open_cents / 100:.2f})",
            )

    def applications(self) -> list[tuple[LedgerEntry, int]]:
        return [
            (item.entry, self.cleaned_data[f"apply_{item.entry.pk}"])
            for item in self.open_charges
            if self.cleaned_data.get(f"apply_{item.entry.pk}")
        ]


NEW, SWIPE = "new", "swipe"


class CardSourceForm(forms.Form):
    """Which card: one on file, one typed into the gateway's field, or a swipe. For the
    last two only the payment-method id the gateway returned to the browser is posted."""

    source = forms.ChoiceField(
        label="Card", widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    payment_method_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    save_card = forms.BooleanField(required=False, label="Keep this card on file")
    use_for_autopay = forms.BooleanField(required=False, label="Use it for autopay")

    def __init__(self, *args, cards: list[SavedCard], allow_swipe: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = {str(card.pk): card for card in cards}
        choices = [(f"card:{card.pk}", str(card)) for card in cards]
        choices.append((NEW, "A new card, typed in"))
        if allow_swipe:
            choices.append((SWIPE, "Swipe a card"))
        self.fields["source"].choices = choices
        self.fields["source"].initial = choices[0][0]
        self.saved_card: SavedCard | None = None

    def clean(self):
        data = super().clean()
        source = data.get("source", "")
        if source.startswith("card:"):
            self.saved_card = self.cards.get(source.removeprefix("card:"))
            data["payment_method_id"] = self.saved_card.payment_method_id
        elif source in (NEW, SWIPE) and not PAYMENT_METHOD_ID.match(
            data.get("payment_method_id") or ""
        ):
            self.add_error(
                "source",
                "The card did not reach the card processor yet. Type (or swipe) the "
                "card again and press the button once more.",
            )
        return data

    @property
    def is_new_card(self) -> bool:
        return self.saved_card is None


class SaveCardForm(forms.Form):
    payment_method_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    use_for_autopay = forms.BooleanField(required=False, label="Use it for autopay")

    def clean(self):
        data = super().clean()
        if not PAYMENT_METHOD_ID.match(data.get("payment_method_id") or ""):
            # A hidden field's error would not show: say it above the form.
            raise forms.ValidationError(
                "The card did not reach the card processor yet. Type it again."
            )
        return data


class GatewayRefundForm(forms.Form):
    amount = AmountField()
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = account.currency
        self.fields["amount"].label = f"Amount ({account.currency})"


class DateRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    max_days = 366

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date cannot be before the start date.")
            elif (end - start).days >= self.max_days:
                self.add_error("end", f"Choose at most {self.max_days} days.")
        return data


class DepositReportForm(DateRangeForm):
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="All my locations"
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class ReconciliationForm(DateRangeForm):
    max_days = 92


def this_month() -> tuple[date, date]:
    today = clock.account_today()
    return today.replace(day=1), today
