"""Forms of the enrollment office pages (parsing only: the services decide)."""

from __future__ import annotations

from datetime import date

from django import forms

from classbook.catalog.models import Camp, Meeting
from classbook.enrollment.models import EnrollmentRequest, EnrollmentSettings

DATE = forms.DateInput(attrs={"type": "date"})


def seats_left_label(left: int) -> str:
    return f"{left} seat{'s' if left != 1 else ''} left" if left > 0 else "full"


def _not_past(value: date | None, today: date, what: str) -> None:
    if value is not None and value < today:
        raise forms.ValidationError(f"The {what} is in the past; choose today or later.")


class OverrideMixin:
    """Adds "override the rules" (checkbox + reason) only for staff allowed to."""

    def add_override(self, can_override: bool, what: str = "capacity and eligibility rules"):
        self.can_override = can_override
        if can_override:
            self.fields["override"] = forms.BooleanField(
                required=False, label=f"Override the {what}"
            )
            self.fields["override_reason"] = forms.CharField(
                required=False,
                max_length=300,
                label="Why override",
                help_text="Required with an override; recorded in the audit log.",
            )

    def check_override(self, data: dict) -> None:
        if not self.can_override:
            return
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Say why you override the rules.")

    @property
    def override_reason(self) -> str:
        if not self.can_override or not self.cleaned_data.get("override"):
            return ""
        return self.cleaned_data.get("override_reason", "").strip()


def forged_override(form: OverrideMixin, data) -> bool:
    """A POST naming an override from someone whose form has no override field."""
    return not form.can_override and bool(
        data.get("override") or (data.get("override_reason") or "").strip()
    )


class EnrollForm(OverrideMixin, forms.Form):
    start_date = forms.DateField(
        widget=DATE, help_text="The first meeting on or after this date is the first class."
    )
    end_date = forms.DateField(
        required=False, widget=DATE, help_text="Leave empty to stay enrolled to the end."
    )

    def __init__(self, *args, today: date, can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.add_override(can_override)

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        _not_past(value, self.today, "start date")
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        self.check_override(data)
        return data


class ClassPickerForm(forms.Form):
    """Filters of the class picker (enroll a student, book a trial or makeup)."""

    q = forms.CharField(required=False, label="Class name", max_length=100)
    program = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programs")
    day = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any day"), *enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])],
    )
    location = forms.ModelChoiceField(queryset=None, required=False, empty_label="All locations")

    def __init__(self, *args, programs, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["location"].queryset = locations
        self.fields["q"].widget.input_type = "search"


class CampBookForm(OverrideMixin, forms.Form):
    option = forms.ModelChoiceField(queryset=None, widget=forms.RadioSelect, empty_label=None)
    days = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, camp: Camp, days, can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.camp = camp
        self.fields["option"].queryset = camp.options.all()
        self.fields["option"].label_from_instance = lambda o: (
            f"{o.get_kind_display()} ({o.start_time:%-I:%M %p}–{o.end_time:%-I:%M %p})"
        )
        self.fields["days"].queryset = days
        self.fields["days"].label_from_instance = lambda d: f"{d.date:%a %b %-d}"
        if camp.signup_mode == Camp.SignupMode.WHOLE:
            del self.fields["days"]
        self.add_override(can_override)

    def clean(self):
        data = super().clean()
        if "days" in self.fields and not data.get("days") and not self.has_error("days"):
            self.add_error("days", "Choose one or more days.")
        self.check_override(data)
        return data


class DropForm(forms.Form):
    effective_date = forms.DateField(
        label="Stops attending from",
        widget=DATE,
        help_text="No meeting on or after this date. Before the first meeting cancels it.",
    )
    reason = forms.CharField(max_length=300)

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"]
        _not_past(value, self.today, "drop date")
        return value


class TransferForm(OverrideMixin, forms.Form):
    to_class = forms.ModelChoiceField(queryset=None, label="New class")
    effective_date = forms.DateField(
        label="In the new class from", widget=DATE, help_text="The old class ends the day before."
    )
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, classes, today: date, can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["to_class"].queryset = classes
        self.fields["to_class"].label_from_instance = lambda k: (
            f"{k.name} · {k.weekday_names} {k.start_time:%-I:%M %p} · {k.location.name}"
        )
        self.add_override(can_override)

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"]
        _not_past(value, self.today, "transfer date")
        return value

    def clean(self):
        data = super().clean()
        self.check_override(data)
        return data


class MeetingForm(OverrideMixin, forms.Form):
    """Pick one meeting of a class (a trial or a makeup)."""

    meeting = forms.ModelChoiceField(queryset=None, widget=forms.RadioSelect, empty_label=None)

    def __init__(self, *args, choices: list[tuple[Meeting, int]], can_override=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.seats = {m.pk: left for m, left in choices}
        self.fields["meeting"].queryset = Meeting.objects.filter(pk__in=list(self.seats))
        self.fields["meeting"].label_from_instance = lambda m: (
            f"{m.date:%a %b %-d, %Y} — " + seats_left_label(self.seats.get(m.pk, 0))
        )
        self.add_override(can_override)

    def clean(self):
        data = super().clean()
        self.check_override(data)
        return data


class MakeupIssueForm(forms.Form):
    reason = forms.CharField(
        max_length=300, help_text="For example: missed Jan 12 (sick), or a closure."
    )
    expires_on = forms.DateField(label="Use by", widget=DATE)

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_expires_on(self):
        value = self.cleaned_data["expires_on"]
        _not_past(value, self.today, "expiry date")
        return value


class RequestFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "All kinds"), *EnrollmentRequest.Kind.choices]
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), *EnrollmentRequest.Status.choices]
    )


class RequestDecideForm(forms.Form):
    """The reply; the decision is the button pressed (``decision`` = approve / deny)."""

    reply = forms.CharField(
        required=False,
        label="Message to the family",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you deny.",
    )

    def __init__(self, *args, decision: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision

    def clean(self):
        data = super().clean()
        if self.decision not in ("approve", "deny"):
            raise forms.ValidationError("Choose Approve or Deny.")
        if self.decision == "deny" and not (data.get("reply") or "").strip():
            self.add_error("reply", "Tell the family why the request is denied.")
        return data


class SettingsForm(forms.Form):
    hold_minutes = forms.IntegerField(
        label=EnrollmentSettings._meta.get_field("hold_minutes").verbose_name.capitalize(),
        min_value=1,
        max_value=120,
        help_text="How long a seat in a portal cart is kept while the family checks out "
        "(1–120 minutes).",
    )
    offer_hours = forms.IntegerField(
        label=EnrollmentSettings._meta.get_field("offer_hours").verbose_name.capitalize(),
        min_value=1,
        max_value=24 * 14,
        help_text="How long a family has to claim a seat offered from the waitlist "
        "(1 hour – 14 days).",
    )
