"""Enrollment summaries for other apps' pages (see ``enrollment/_family_enrollments.html``
and ``enrollment/_class_enrollment_summary.html``): the includes fetch their own rows, in
a fixed number of queries."""

from django import template

from classbook.core import clock
from classbook.enrollment import selectors

register = template.Library()


@register.simple_tag
def family_enrollment_summary(family):
    return selectors.family_enrollments(family, today=clock.account_today())


@register.simple_tag
def class_enrollment_summary(klass):
    return selectors.class_summary(klass, today=clock.account_today(), now=clock.now())
