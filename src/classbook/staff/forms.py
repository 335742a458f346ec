from django import forms

from classbook.accounts.models import Location
from classbook.staff.models import UserGroup
from classbook.staff.permissions import CATALOGUE


class TokenForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "pattern": "[0-9]{6}",
            }
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not (code.isascii() and code.isdigit()):
            raise forms.ValidationError("The code is 6 digits.")
        return code


class PasswordResetRequestForm(forms.Form):
    login = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


def permission_choices():
    return [(p.code, f"{p.area}: {p.label}") for p in CATALOGUE.values()]


class StaffAccessForm(forms.Form):
    """Profile and access of one staff member (the invite and edit pages)."""

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(help_text="Password links and notices go here.")
    title = forms.CharField(label="Job title", max_length=100, required=False)
    groups = forms.ModelMultipleChoiceField(
        queryset=UserGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="User Groups",
    )
    permissions = forms.MultipleChoiceField(
        choices=permission_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Advanced Permissions",
        help_text="Single extra rights on top of the groups.",
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Limit to locations",
        help_text="Leave all unticked to allow every location.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = UserGroup.objects.all()
        self.fields["locations"].queryset = Location.objects.all()


class StaffInviteForm(StaffAccessForm):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+$",
        max_length=150,
        error_messages={"invalid": "Letters, digits and . @ + - _ only."},
        help_text="What they type to log in; unique in this business.",
    )

    field_order = ["first_name", "last_name", "username", "email", "title"]


class GroupForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=300, required=False)
    permissions = forms.MultipleChoiceField(
        choices=permission_choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class SecurityPolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False,
        label="Require two-factor authentication for all staff",
        help_text="Staff without an authenticator app set up are asked to add one at their "
        "next page view.",
    )


class SupportVisitForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The account owner sees this in their audit log.",
    )
    acting_as = forms.ModelChoiceField(
        queryset=None, label="Act as", help_text="The staff login whose rights you use."
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["acting_as"].queryset = staff
