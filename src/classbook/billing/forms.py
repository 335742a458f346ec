from datetime import timedelta

from django import forms

from classbook.billing.models import BillingSettings, TuitionRule
from classbook.catalog.models import Class, Program
from classbook.core import clock
from classbook.ledger.forms import AmountField


class PeriodForm(forms.Form):
    period = forms.DateField(
        label="Month",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = clock.account_today()
        following = today.replace(day=28) + timedelta(days=4)
        self.fields["period"].initial = following.replace(day=1)


class TuitionRuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=TuitionRule.Kind.choices)
    amount = AmountField(
        required=False, label="Price", help_text="Per month, per session or per meeting."
    )
    hour_table = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Price table (hour rules)",
        help_text="One row per line: weekly hours up to, then the monthly price — e.g. "
        "“1 = 70”, “2.5 = 150”.",
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = account.currency
        self.currency = account.currency

    def clean(self):
        data = super().clean()
        if data.get("kind") == TuitionRule.Kind.HOURS_TABLE:
            data["table_rows"] = self._parse_table(data.get("hour_table", ""))
        elif not data.get("amount") and "amount" not in self.errors:
            self.add_error("amount", "Enter the price.")
        return data

    def _parse_table(self, text: str) -> list[list[int]]:
        from decimal import Decimal, InvalidOperation

        from classbook.core.money import Money

        rows = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            hours, _, price = raw.partition("=")
            try:
                minutes = int(Decimal(hours.strip()) * 60)
                cents = Money.parse(price.strip(), self.currency).cents
            except (InvalidOperation, ValueError):
                self.add_error("hour_table", f"Line {number}: write it as “hours = price”.")
                return []
            rows.append([minutes, cents])
        if not rows:
            self.add_error("hour_table", "Add at least one line.")
        return rows


class AssignForm(forms.Form):
    rule = forms.ModelChoiceField(
        queryset=TuitionRule.objects.none(), required=False, empty_label="— no rule (remove) —"
    )
    program = forms.ModelChoiceField(queryset=Program.objects.none(), required=False)
    klass = forms.ModelChoiceField(
        queryset=Class.objects.none(), required=False, label="or one class"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = TuitionRule.objects.all()
        self.fields["program"].queryset = Program.objects.filter(is_active=True)
        self.fields["klass"].queryset = Class.objects.filter(is_active=True).select_related(
            "program"
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("program")) == bool(data.get("klass")):
            raise forms.ValidationError("Choose a program or one class (not both).")
        return data


class BillingSettingsForm(forms.ModelForm):
    class Meta:
        model = BillingSettings
        fields = [
            "proration",
            "due_day",
            "multiclass_kind",
            "multiclass_scope",
            "multiclass_second",
            "multiclass_third_plus",
            "sibling_kind",
            "sibling_second",
            "sibling_third_plus",
            "combine_locations",
            "registration_fee_cents",
            "registration_fee_scope",
            "membership_year_start_month",
            "late_fee_cents",
            "late_fee_after_days",
        ]
        help_texts = {
            "sibling_second": "Percent, or cents when the kind is Amount.",
            "multiclass_second": "Percent, or cents when the kind is Amount.",
            "registration_fee_cents": "In cents; 0 = no registration fee.",
            "late_fee_cents": "In cents; 0 = no late fee.",
        }
