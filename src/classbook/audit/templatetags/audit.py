from django import template

from classbook.audit.actions import action_label

register = template.Library()


@register.filter
def action_name(code: str) -> str:
    return action_label(code)


@register.filter
def audit_value(value) -> str:
    """A recorded value as people read it: lists joined, empty shown as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
