"""Form helpers shared by all apps."""

from django import forms

from classbook.core.errors import ValidationFailed


def add_service_errors(form: forms.BaseForm, error: ValidationFailed) -> None:
    """Show a service's refusal next to the fields it names."""
    for field, messages in error.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
