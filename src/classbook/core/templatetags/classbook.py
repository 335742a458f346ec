"""Template helpers available in every template (registered as a builtin)."""

from django import template

from classbook.core.urls import account_reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def aurl(context, name: str, **kwargs) -> str:
    """``{% aurl 'office:dashboard' %}``: a URL inside the account being served."""
    return account_reverse(name, account=context["request"].account, **kwargs)


@register.filter
def bs(field):
    """Render a bound field's widget with Bootstrap classes and its error state."""
    kind = field.widget_type
    css = {"checkbox": "form-check-input", "select": "form-select"}.get(kind, "form-control")
    attrs = {"class": css}
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}-error"
    return field.as_widget(attrs=attrs)


@register.filter
def money(cents, currency: str = "USD") -> str:
    """``{{ entry.amount_cents|money:account.currency }}`` → "$1,045.50"."""
    from classbook.core.money import Money

    if cents is None or cents == "":
        return ""
    return str(Money(int(cents), currency))


@register.filter
def get_item(mapping, key):
    """``{{ aging|get_item:"90+" }}`` for keys that are not valid template names."""
    return mapping.get(key) if hasattr(mapping, "get") else None
