import zoneinfo

from django import forms

from classbook.accounts.models import Location

TIMEZONE_CHOICES = [
    (tz, tz.replace("_", " "))
    for tz in sorted(zoneinfo.available_timezones())
    if "/" in tz and not tz.startswith(("Etc/", "SystemV/"))
]


class LocationForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = Location
        fields = [
            "name",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "phone",
            "timezone",
            "is_active",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }
        labels = {"is_active": "Open (shown in the location switcher)"}
