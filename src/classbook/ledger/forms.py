from django import forms

from classbook.accounts.models import Location
from classbook.core import clock
from classbook.core.money import Money
from classbook.ledger.models import LedgerEntry
from classbook.ledger.services import PAYMENT_METHODS_RECORDED_BY_STAFF


class AmountField(forms.CharField):
    """An amount typed as people write it ("45", "45.50", "$1,045.50") → cents."""

    def __init__(self, *, currency: str = "USD", **kwargs):
        self.currency = currency
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            cents = Money.parse(value, self.currency).cents
        except ValueError:
            raise forms.ValidationError("Enter an amount such as 45 or 45.50.") from None
        if cents <= 0:
            raise forms.ValidationError("The amount must be more than zero.")
        return cents


class _EntryForm(forms.Form):
    amount = AmountField()
    entry_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="— (no location)"
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = account.currency
        self.fields["amount"].label = f"Amount ({account.currency})"
        self.fields["location"].queryset = Location.objects.filter(is_active=True)
        self.fields["entry_date"].initial = clock.account_today()


class ChargeForm(_EntryForm):
    charge_type = forms.ChoiceField(label="Kind", choices=LedgerEntry.ChargeType.choices)
    description = forms.CharField(max_length=300)
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for due at once.",
    )
    field_order = ["charge_type", "description", "amount", "entry_date", "due_date", "location"]

    def clean(self):
        data = super().clean()
        if (
            data.get("due_date")
            and data.get("entry_date")
            and data["due_date"] < data["entry_date"]
        ):
            self.add_error("due_date", "The due date cannot be before the charge date.")
        return data


class CreditForm(_EntryForm):
    credit_type = forms.ChoiceField(label="Kind", choices=LedgerEntry.CreditType.choices)
    description = forms.CharField(max_length=300)
    field_order = ["credit_type", "description", "amount", "entry_date", "location"]


class PaymentForm(_EntryForm):
    method = forms.ChoiceField(
        choices=[
            (m.value, m.label)
            for m in LedgerEntry.PaymentMethod
            if m in PAYMENT_METHODS_RECORDED_BY_STAFF
        ]
    )
    reference = forms.CharField(
        max_length=120, required=False, help_text="Check number, terminal receipt number, …"
    )
    description = forms.CharField(max_length=300, required=False)
    field_order = ["method", "amount", "reference", "entry_date", "location", "description"]

    def __init__(self, *args, open_charges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.open_charges = list(open_charges)
        for item in self.open_charges:
            field = AmountField(
                currency=self.fields["amount"].currency,
                required=False,
                label=f"{item.entry.description} (open {item.open_cents / 100:.2f})",
            )
            self.fields[f"apply_{item.entry.pk}"] = field

    def applications(self) -> list[tuple[LedgerEntry, int]]:
        return [
            (item.entry, self.cleaned_data[f"apply_{item.entry.pk}"])
            for item in self.open_charges
            if self.cleaned_data.get(f"apply_{item.entry.pk}")
        ]

    def clean(self):
        data = super().clean()
        chosen = sum(cents for _, cents in self.applications()) if not self.errors else 0
        if data.get("amount") and chosen > data["amount"]:
            raise forms.ValidationError("The amounts applied add up to more than the payment.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))


class RefundForm(forms.Form):
    amount = AmountField()
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = account.currency


class LedgerFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "All entries"), *LedgerEntry.Kind.choices]
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


class StatementsForm(forms.Form):
    month = forms.DateField(
        widget=forms.DateInput(attrs={"type": "month"}),
        input_formats=["%Y-%m"],
        help_text="The month the statement covers.",
    )
    only_with_balance = forms.BooleanField(
        required=False, initial=True, label="Only families who owe money"
    )
