"""Forms of the family pages. They check shapes; the services decide (and say) the rest."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from classbook.catalog.models import Level
from classbook.families.models import (
    EmergencyContact,
    Family,
    Guardian,
    Policy,
    PolicyAcceptance,
    PolicyVersion,
    Student,
)
from classbook.families.services import FamilyDetails, GuardianDetails, StudentDetails


def _tel(autocomplete: str = "tel") -> forms.TextInput:
    return forms.TextInput(attrs={"type": "tel", "autocomplete": autocomplete})


class FamilyForm(forms.ModelForm):
    class Meta:
        model = Family
        fields = ["name", "address_line1", "address_line2", "city", "region", "postal_code"]
        widgets = {
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }

    def details(self) -> FamilyDetails:
        return FamilyDetails(**{k: self.cleaned_data[k] for k in self.Meta.fields})


class GuardianForm(forms.ModelForm):
    class Meta:
        model = Guardian
        fields = [
            "first_name",
            "last_name",
            "relationship",
            "email",
            "mobile_phone",
            "home_phone",
            "work_phone",
            "sms_opt_in",
            "address",
        ]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "mobile_phone": _tel("tel"),
            "home_phone": _tel("off"),
            "work_phone": _tel("off"),
        }

    def details(self) -> GuardianDetails:
        return GuardianDetails(**{k: self.cleaned_data[k] for k in self.Meta.fields})


class StudentForm(forms.ModelForm):
    # Declared here: a queryset made at import time would have no account to run in.
    level = forms.ModelChoiceField(queryset=Level.objects.none(), required=False)

    class Meta:
        model = Student
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "level",
            "allergies",
            "medical_notes",
            "notes",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "medical_notes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"medical_notes": "Medical notes"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = Level.objects.filter(is_active=True).select_related(
            "program"
        )

    def details(self) -> StudentDetails:
        return StudentDetails(**{k: self.cleaned_data[k] for k in self.Meta.fields})


MAX_STUDENT_ROWS = 12


class BaseStudentFormSet(forms.BaseFormSet):
    """Student rows of the new-family page; every row is optional (blank rows are skipped)."""

    def initial_form_count(self) -> int:
        return 0

    def filled_forms(self) -> list[StudentForm]:
        """The rows someone typed into."""
        return [f for f in self.forms if f.has_changed()]


def student_formset(data=None, *, rows: int = 1, initial=None) -> BaseStudentFormSet:
    formset_class = formset_factory(
        StudentForm,
        formset=BaseStudentFormSet,
        extra=min(max(rows, 1), MAX_STUDENT_ROWS),
        max_num=MAX_STUDENT_ROWS,
        validate_max=True,
    )
    return formset_class(data, prefix="students", initial=initial)


class ContactForm(forms.ModelForm):
    class Meta:
        model = EmergencyContact
        fields = ["name", "relationship", "phone"]
        widgets = {"phone": _tel()}


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Add a note",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Only staff see notes."}),
        max_length=5000,
    )


class TagsForm(forms.Form):
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Separate tags with commas, e.g. “VIP, Staff family”.",
        widget=forms.TextInput(attrs={"list": "known-tags", "autocomplete": "off"}),
    )

    def names(self) -> list[str]:
        return [n for n in self.cleaned_data["tags"].split(",") if n.strip()]


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Policy.Kind.choices)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Publishing creates a new version; families' earlier acceptances keep "
        "pointing at the version they accepted.",
    )


class AcceptanceForm(forms.Form):
    guardian = forms.ModelChoiceField(queryset=Guardian.objects.none())
    policy_version = forms.ModelChoiceField(
        queryset=PolicyVersion.objects.none(), label="Policy or waiver"
    )
    method = forms.ChoiceField(
        choices=PolicyAcceptance.Method.choices, initial=PolicyAcceptance.Method.IN_PERSON
    )
    accepted_on = forms.DateField(
        label="Accepted on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, family: Family, versions: list[PolicyVersion], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = Guardian.objects.filter(family=family, is_active=True)
        self.fields["policy_version"].queryset = PolicyVersion.objects.filter(
            pk__in=[v.pk for v in versions]
        ).select_related("policy")
        self.fields["accepted_on"].initial = timezone.localdate()


class MergeConfirmForm(forms.Form):
    keep = forms.ChoiceField(label="Which family stays?")
    confirm = forms.BooleanField(
        label="I checked: these are the same family. Move everything into the one that stays.",
    )

    def __init__(self, *args, first: Family, second: Family, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (str(f.pk), f"{f.name} family (#{f.pk})") for f in (first, second)
        ]
        # The older record usually has the history: suggest keeping it.
        self.fields["keep"].initial = str(min(first.pk, second.pk))
