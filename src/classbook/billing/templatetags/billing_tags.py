"""Template helpers other apps' pages use to show prices."""

from django import template

from classbook.billing.models import TuitionAssignment

register = template.Library()


@register.simple_tag
def tuition_rule_for(klass):
    """The rule that prices ``klass`` (its own, else its program's), or None."""
    assignments = {
        ("class" if a.klass_id else "program"): a.rule
        for a in TuitionAssignment.objects.filter(klass=klass).select_related("rule")
        | TuitionAssignment.objects.filter(program_id=klass.program_id).select_related("rule")
    }
    return assignments.get("class") or assignments.get("program")
