"""Forms of the customer portal (and its office settings page)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from classbook.catalog import weekdays
from classbook.core import clock
from classbook.core.money import Money
from classbook.families.models import Student
from classbook.portal.models import PortalSettings
from classbook.portal.selectors import TIMES_OF_DAY

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_AGE_YEARS = 100
GENDER_CHOICES = [
    ("", "Prefer not to say"),
    ("female", "Girl"),
    ("male", "Boy"),
]


def clean_birth_date(value: date | None) -> date | None:
    if value is None:
        return None
    today = clock.account_today()
    if value > today:
        raise ValidationError("The date of birth is in the future; check the year.")
    if value.year < today.year - MAX_AGE_YEARS:
        raise ValidationError(f"That is over {MAX_AGE_YEARS} years ago; check the year.")
    return value


class BirthDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DATE_INPUT)
        kwargs.setdefault("label", "Date of birth")
        super().__init__(**kwargs)

    def clean(self, value):
        return clean_birth_date(super().clean(value))


# --- finding a class ----------------------------------------------------------------------


class WhoForm(forms.Form):
    """A child's date of birth (and gender, optional), when not a signed-in family's
    student."""

    dob = BirthDateField(help_text="Classes are matched to the child's age.")
    gender = forms.ChoiceField(
        label="Girl or boy (some classes are for girls or boys only)",
        choices=GENDER_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )


class WhenForm(forms.Form):
    days = forms.MultipleChoiceField(
        label="Days that suit you",
        choices=[(str(i), name) for i, name in enumerate(weekdays.NAMES)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time = forms.ChoiceField(
        label="Time of day",
        choices=[("", "Any time"), *[(k, v[0]) for k, v in TIMES_OF_DAY.items()]],
        required=False,
        widget=forms.RadioSelect,
    )


class ClassFilterForm(forms.Form):
    location = forms.TypedChoiceField(label="Location", coerce=int, required=False)
    program = forms.TypedChoiceField(label="Program", coerce=int, required=False)
    day = forms.TypedChoiceField(
        label="Day",
        coerce=int,
        required=False,
        choices=[("", "Any day"), *[(str(i), n) for i, n in enumerate(weekdays.NAMES)]],
    )
    age = forms.IntegerField(label="Child's age (years)", required=False, min_value=0, max_value=99)

    def __init__(self, *args, locations=(), programs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", "All locations")] + [
            (str(loc.pk), loc.name) for loc in locations
        ]
        self.fields["program"].choices = [("", "All programs")] + [
            (str(p.pk), p.name) for p in programs
        ]


class AddToCartForm(forms.Form):
    """Who a class is for, as posted by the finder, the class page or the list."""

    student = forms.IntegerField(required=False, widget=forms.HiddenInput)
    dob = BirthDateField(required=False)
    gender = forms.ChoiceField(choices=GENDER_CHOICES, required=False)
    level = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("student") is None and data.get("dob") is None:
            self.add_error("dob", "Enter the child's date of birth.")
        return data


# --- signing up ---------------------------------------------------------------------------


class SignupForm(forms.Form):
    first_name = forms.CharField(label="Your first name", max_length=100)
    last_name = forms.CharField(label="Your last name", max_length=100)
    email = forms.EmailField(
        label="Email (your log-in)", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    mobile_phone = forms.CharField(
        label="Mobile phone", max_length=40, widget=forms.TextInput(attrs={"type": "tel"})
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="At least 10 characters; not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    contact_name = forms.CharField(label="Emergency contact's name", max_length=200)
    contact_relationship = forms.CharField(
        label="Their relationship to the children", max_length=60, required=False
    )
    contact_phone = forms.CharField(
        label="Emergency contact's phone",
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class StudentForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = BirthDateField()
    gender = forms.ChoiceField(
        label="Gender",
        choices=[(v, label) for v, label in Student.Gender.choices],
        initial=Student.Gender.UNSPECIFIED,
    )
    medical_notes = forms.CharField(
        label="Medical notes the coaches should know",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allergies = forms.CharField(
        label="Allergies", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SignupStudentForm(StudentForm):
    level = forms.TypedChoiceField(
        label="Current level (if you know it)", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", "New / not sure")] + [
            (str(level.pk), str(level)) for level in levels
        ]


StudentFormSet = forms.formset_factory(SignupStudentForm, extra=0, min_num=1, validate_min=True)


class InviteGuardianForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(help_text="The invitation to choose a password goes here.")
    relationship = forms.CharField(max_length=60, required=False, help_text="For example Father.")
    mobile_phone = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )


# --- paying -------------------------------------------------------------------------------


class PaymentChoiceForm(forms.Form):
    """How to pay: a saved card, a new card (tokenized by the gateway's script in the
    browser; only its pm_ id is posted), or later."""

    method = forms.ChoiceField(label="Pay with", widget=forms.RadioSelect)
    payment_method_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    save_card = forms.BooleanField(label="Keep this card on file for next time", required=False)
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, cards=(), pay_later=False, new_card=True, free=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.free = free
        choices = [(f"card:{c.pk}", str(c)) for c in cards]
        if new_card:
            choices.append(("new", "A new card"))
        if pay_later:
            choices.append(("later", "Pay later (the charges go on your account)"))
        self.fields["method"].choices = choices
        if choices:
            self.fields["method"].initial = choices[0][0]
        if free:  # nothing to pay: no card needed
            self.fields["method"].required = False
        self.cards = {f"card:{c.pk}": c for c in cards}

    def clean(self):
        data = super().clean()
        if self.free:
            data["method"] = "later"
            return data
        if data.get("method") == "new" and not data.get("payment_method_id", "").startswith("pm_"):
            self.add_error(
                None,
                "Type the card into the card field (it needs JavaScript, which sends the "
                "card straight to the card processor), or choose a saved card.",
            )
        return data

    @property
    def saved_card(self):
        return self.cards.get(self.cleaned_data.get("method", ""))


class CheckoutPayForm(PaymentChoiceForm):
    total_cents = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class PayBalanceForm(PaymentChoiceForm):
    amount = forms.CharField(label="Amount to pay", max_length=20)

    def __init__(self, *args, currency="USD", most_cents=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.most_cents = currency, most_cents
        self.order_fields(["amount", "method"])

    def clean_amount(self):
        try:
            cents = Money.parse(self.cleaned_data["amount"], self.currency).cents
        except (ValueError, TypeError):
            raise ValidationError("Enter an amount like 85.00.") from None
        if cents <= 0:
            raise ValidationError("The amount must be more than zero.")
        if cents > self.most_cents:
            raise ValidationError(
                f"You can pay at most {Money(self.most_cents, self.currency)} (your balance)."
            )
        return cents


class SaveCardForm(forms.Form):
    payment_method_id = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean_payment_method_id(self):
        value = self.cleaned_data["payment_method_id"]
        if not value.startswith("pm_"):
            raise ValidationError("Type the card into the card field first.")
        return value


# --- requests -----------------------------------------------------------------------------


class RequestForm(forms.Form):
    message = forms.CharField(
        label="Message to the office (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DropRequestForm(RequestForm):
    enrollment = forms.TypedChoiceField(label="Class", coerce=int)
    effective_date = forms.DateField(
        label="Last day attending is the day before", widget=DATE_INPUT
    )

    def __init__(self, *args, enrollments=(), earliest: date, month_start: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].choices = [
            (str(e.pk), f"{e.student.first_name}: {e.klass} ({e.klass.weekday_names})")
            for e in enrollments
        ]
        self.earliest, self.month_start = earliest, month_start
        rule = "the first day of a month, " if month_start else ""
        self.fields["effective_date"].label = "Drop from (no classes on or after)"
        self.fields[
            "effective_date"
        ].help_text = f"The business asks for {rule}on {earliest:%B %-d, %Y} or later."
        self.fields["effective_date"].initial = earliest
        self.order_fields(["enrollment", "effective_date", "message"])

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"]
        if value < self.earliest:
            raise ValidationError(f"The earliest date for a drop is {self.earliest:%B %-d, %Y}.")
        if self.month_start and value.day != 1:
            raise ValidationError("Drops take effect on the first day of a month.")
        return value


class TransferRequestForm(RequestForm):
    enrollment = forms.TypedChoiceField(label="From the class", coerce=int)
    target = forms.TypedChoiceField(label="To the class", coerce=int)
    effective_date = forms.DateField(label="Starting", widget=DATE_INPUT)

    def __init__(self, *args, enrollments=(), targets=(), earliest: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].choices = [
            (str(e.pk), f"{e.student.first_name}: {e.klass} ({e.klass.weekday_names})")
            for e in enrollments
        ]
        self.fields["target"].choices = [
            (
                str(c.id),
                f"{c.name} — {c.days_label} {c.time_label}, {c.location_name} ({c.seats_label})",
            )
            for c in targets
        ]
        self.earliest = earliest
        self.fields["effective_date"].initial = earliest
        self.order_fields(["enrollment", "target", "effective_date", "message"])

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"]
        if value < self.earliest:
            raise ValidationError(f"Choose {self.earliest:%B %-d, %Y} or later.")
        return value


class VisitRequestForm(RequestForm):
    """A trial or a makeup: one meeting."""

    student = forms.TypedChoiceField(label="Student", coerce=int)
    meeting = forms.TypedChoiceField(label="Class and date", coerce=int)

    def __init__(self, *args, students=(), meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [(str(s.pk), s.full_name) for s in students]
        self.fields["meeting"].choices = [
            (str(m.pk), f"{m.klass.name} — {m.date:%a %b} {m.date.day}, {m.starts_at:%-I:%M %p}")
            for m in meetings
        ]
        self.order_fields(["student", "meeting", "message"])


# --- the office's settings page -----------------------------------------------------------


class PortalSettingsForm(forms.ModelForm):
    logo = forms.FileField(
        label="Upload a logo",
        required=False,
        help_text="PNG, JPEG, GIF or WebP, up to 300 KB. Shown at the top of every portal page.",
    )
    remove_logo = forms.BooleanField(label="Remove the uploaded logo", required=False)
    logo_url = forms.URLField(
        label="Or a logo address (https://…)", required=False, assume_scheme="https", max_length=500
    )

    class Meta:
        model = PortalSettings
        fields = [
            "mode",
            "allow_pay_later",
            "welcome_text",
            "primary_color",
            "accent_color",
            "logo_url",
            "drop_notice_days",
            "drop_on_month_start",
        ]
        widgets = {
            "mode": forms.RadioSelect,
            "welcome_text": forms.Textarea(attrs={"rows": 4}),
            "primary_color": forms.TextInput(attrs={"type": "color"}),
            "accent_color": forms.TextInput(attrs={"type": "color"}),
        }
        labels = {
            "welcome_text": "Welcome text on the portal's first page",
            "primary_color": "Main colour (header and buttons, with white text)",
            "accent_color": "Background tint (behind dark text)",
            "logo_url": "Or a logo address (https://…)",
        }
