"""Office forms of the catalog: they parse input; the services validate and write."""

from __future__ import annotations

from django import forms

from classbook.catalog import weekdays
from classbook.catalog.models import PALETTE, AgeAsOf, Camp, CampOption, GenderRule
from classbook.core.money import Money


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _date(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), help_text=help_text)


def _time(label: str, required: bool = True) -> forms.TimeField:
    return forms.TimeField(label=label, required=required, widget=TimeInput())


def _moment(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, widget=DateTimeInput(), help_text=help_text
    )


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return str(obj)


class ProgramForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


class LevelForm(forms.Form):
    program = forms.ModelChoiceField(queryset=None)
    name = forms.CharField(max_length=80)
    position = forms.IntegerField(
        min_value=0, max_value=32767, initial=0, help_text="Lower levels come first."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs


class RoomForm(forms.Form):
    location = forms.ModelChoiceField(queryset=None)
    name = forms.CharField(max_length=80)
    capacity = forms.IntegerField(
        required=False, help_text="How many people fit (for information)."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class TermForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Fall 2026”.")
    start_date = _date("First day")
    end_date = _date("Last day")
    registration_opens_at = _moment("Registration opens", "Leave empty to open now.")
    registration_closes_at = _moment("Registration closes", "Leave empty to never close.")


class ClosureForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example “Thanksgiving”.")
    start_date = _date("First day closed")
    end_date = _date("Last day closed")
    location = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every location")
    closes_camps = forms.BooleanField(
        label="Camps are closed too", required=False, help_text="Otherwise camps still run."
    )

    def __init__(self, *args, locations, all_locations_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        field.queryset = locations
        if not all_locations_allowed:
            field.required = True
            field.empty_label = None


class AgeFieldsForm(forms.Form):
    """Ages entered as years + months, stored as months."""

    min_age_years = forms.IntegerField(
        label="Minimum age (years)", required=False, min_value=0, max_value=120
    )
    min_age_extra_months = forms.IntegerField(
        label="and months", required=False, min_value=0, max_value=11
    )
    max_age_years = forms.IntegerField(
        label="Maximum age (years)", required=False, min_value=0, max_value=120
    )
    max_age_extra_months = forms.IntegerField(
        label="and months",
        required=False,
        min_value=0,
        max_value=11,
        help_text="Both ends count: 9 years 11 months takes children until their 10th birthday.",
    )
    AGE_KEYS = ("min_age_years", "min_age_extra_months", "max_age_years", "max_age_extra_months")

    def _months(self, prefix: str) -> int | None:
        years = self.cleaned_data.get(f"{prefix}_years")
        months = self.cleaned_data.get(f"{prefix}_extra_months")
        if years is None and months is None:
            return None
        return (years or 0) * 12 + (months or 0)

    def age_values(self) -> dict[str, int | None]:
        return {
            "min_age_months": self._months("min_age"),
            "max_age_months": self._months("max_age"),
        }

    @staticmethod
    def age_initial(min_months: int | None, max_months: int | None) -> dict:
        initial = {}
        for prefix, value in (("min_age", min_months), ("max_age", max_months)):
            if value is not None:
                initial[f"{prefix}_years"], initial[f"{prefix}_extra_months"] = divmod(value, 12)
        return initial


class ClassForm(AgeFieldsForm):
    name = forms.CharField(max_length=120, help_text="For example “Level 2 Girls”.")
    program = forms.ModelChoiceField(queryset=None)
    required_level = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="No level required",
        help_text="Students at this level or above (in the class's program) may enroll.",
    )
    location = forms.ModelChoiceField(queryset=None)
    room = forms.ModelChoiceField(queryset=None, required=False, empty_label="No room")
    term = forms.ModelChoiceField(
        queryset=None, required=False, label="Session", empty_label="Open-ended (no session)"
    )
    start_date = _date(
        "Start date", required=False, help_text="Needed without a session; optional inside one."
    )
    end_date = _date("End date", required=False, help_text="Leave empty to follow the session.")
    weekdays = forms.TypedMultipleChoiceField(
        choices=weekdays.CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Meets on",
    )
    start_time = _time("Starts at", required=False)
    end_time = _time("Ends at", required=False)
    instructors = PersonChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    capacity = forms.IntegerField(min_value=None, max_value=32767)
    age_as_of = forms.ChoiceField(
        choices=AgeAsOf.choices, label="Age is measured at", initial=AgeAsOf.FIRST_MEETING
    )
    age_as_of_date = _date("Age date", required=False, help_text="For “A fixed date”.")
    gender_rule = forms.ChoiceField(choices=GenderRule.choices, label="Who may enroll")
    registration_opens_at = _moment(
        "Registration opens", "Leave empty to follow the session (or open now)."
    )
    registration_closes_at = _moment("Registration closes", "Leave empty to follow the session.")
    portal_visible = forms.BooleanField(
        label="Show in the customer portal", required=False, initial=True
    )
    color = forms.CharField(
        max_length=7, widget=forms.TextInput(attrs={"type": "color"}), initial=PALETTE[0]
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to parents in the portal.",
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="An inactive class has no future meetings and is hidden from the portal.",
    )

    def __init__(self, *args, programs, levels, locations, rooms, terms, instructors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["required_level"].queryset = levels
        self.fields["location"].queryset = locations
        self.fields["room"].queryset = rooms
        self.fields["room"].label_from_instance = lambda r: f"{r.location.name} · {r.name}"
        self.fields["term"].queryset = terms
        self.fields["instructors"].queryset = instructors
        self.fields["capacity"].min_value = None  # the service says why below zero is wrong

    def service_values(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.AGE_KEYS}
        instructors = data.pop("instructors")
        return {
            **data,
            **self.age_values(),
            "instructor_ids": [person.pk for person in instructors],
        }


# Service error keys → the form field that shows them.
CLASS_ERROR_FIELDS = {"min_age_months": "min_age_years", "max_age_months": "max_age_years"}
CAMP_ERROR_FIELDS = {
    "min_age_months": "min_age_years",
    "max_age_months": "max_age_years",
    **{f"{k}_price": f"{k}_price" for k in CampOption.Kind.values},
}


class CampForm(AgeFieldsForm):
    name = forms.CharField(max_length=120)
    program = forms.ModelChoiceField(queryset=None)
    location = forms.ModelChoiceField(queryset=None)
    start_date = _date("First day")
    end_date = _date("Last day")
    weekdays = forms.TypedMultipleChoiceField(
        choices=weekdays.CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Runs on",
        initial=[0, 1, 2, 3, 4],
    )
    signup_mode = forms.ChoiceField(choices=Camp.SignupMode.choices, label="Families sign up for")
    day_capacity = forms.IntegerField(label="Campers per day", max_value=32767)
    registration_opens_at = _moment("Registration opens")
    registration_closes_at = _moment("Registration closes")
    portal_visible = forms.BooleanField(
        label="Show in the customer portal", required=False, initial=True
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    OPTION_DEFAULTS = {
        "full": ("09:00", "16:00"),
        "am": ("09:00", "12:00"),
        "pm": ("13:00", "16:00"),
    }

    def __init__(self, *args, programs, locations, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["program"].queryset = programs
        self.fields["location"].queryset = locations
        for kind, label in CampOption.Kind.choices:
            start, end = self.OPTION_DEFAULTS[kind]
            self.fields[f"{kind}_offered"] = forms.BooleanField(
                label=f"Offer {label.lower()}", required=False
            )
            self.fields[f"{kind}_start_time"] = _time("From", required=False)
            self.fields[f"{kind}_end_time"] = _time("To", required=False)
            self.fields[f"{kind}_price"] = forms.CharField(
                label=f"Price ({currency})",
                required=False,
                help_text="Per camp, or per day when families choose days.",
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            self.fields[f"{kind}_start_time"].initial = start
            self.fields[f"{kind}_end_time"].initial = end

    def option_rows(self):
        """(label, offered, start, end, price) bound fields per option, for the template."""
        return [
            (
                label,
                self[f"{kind}_offered"],
                self[f"{kind}_start_time"],
                self[f"{kind}_end_time"],
                self[f"{kind}_price"],
            )
            for kind, label in CampOption.Kind.choices
        ]

    def clean(self):
        cleaned = super().clean()
        for kind in CampOption.Kind.values:
            text = (cleaned.get(f"{kind}_price") or "").strip()
            if not cleaned.get(f"{kind}_offered"):
                cleaned[f"{kind}_price_cents"] = None
                continue
            if not text:
                cleaned[f"{kind}_price_cents"] = None
                continue
            try:
                cleaned[f"{kind}_price_cents"] = Money.parse(text, self.currency).cents
            except ValueError:
                self.add_error(f"{kind}_price", "Enter an amount like 125 or 125.50.")
        return cleaned

    def service_values(self) -> dict:
        data = self.cleaned_data
        options = [
            {
                "kind": kind,
                "start_time": data.get(f"{kind}_start_time"),
                "end_time": data.get(f"{kind}_end_time"),
                "price_cents": data.get(f"{kind}_price_cents"),
            }
            for kind in CampOption.Kind.values
            if data.get(f"{kind}_offered")
        ]
        fields = {
            name: data[name]
            for name in (
                "name",
                "program",
                "location",
                "start_date",
                "end_date",
                "weekdays",
                "signup_mode",
                "day_capacity",
                "registration_opens_at",
                "registration_closes_at",
                "portal_visible",
                "description",
            )
        }
        return {**fields, **self.age_values(), "options": options}

    @classmethod
    def initial_for(cls, camp) -> dict:
        initial = {
            name: getattr(camp, name)
            for name in (
                "name",
                "program",
                "location",
                "start_date",
                "end_date",
                "signup_mode",
                "day_capacity",
                "registration_opens_at",
                "registration_closes_at",
                "portal_visible",
                "description",
            )
        }
        initial["weekdays"] = weekdays.from_mask(camp.weekdays)
        initial.update(cls.age_initial(camp.min_age_months, camp.max_age_months))
        for option in camp.options.all():
            initial[f"{option.kind}_offered"] = True
            initial[f"{option.kind}_start_time"] = option.start_time
            initial[f"{option.kind}_end_time"] = option.end_time
            whole, cents = divmod(option.price_cents, 100)
            initial[f"{option.kind}_price"] = f"{whole}.{cents:02d}"
        return initial


class CopyTermForm(forms.Form):
    target = forms.ModelChoiceField(queryset=None, label="Copy into", empty_label=None)

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
