"""Display helpers for catalog templates: ``{% load catalog_tags %}``."""

from django import template

from classbook.catalog.eligibility import format_age_range

register = template.Library()


@register.filter
def age_range(obj) -> str:
    """A class's or camp's age range: "6y – 9y 11m", "3y and up", "All ages"."""
    return format_age_range(obj.min_age_months, obj.max_age_months)


@register.filter
def pct(value: float) -> str:
    """A percentage for inline CSS custom properties (always a dot decimal)."""
    return f"{value:.3f}%"
