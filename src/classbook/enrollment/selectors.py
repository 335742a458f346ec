"""Reads of the enrollment engine shared by pages, the portal and the API."""

from classbook.enrollment.models import EnrollmentSettings


def enrollment_settings() -> EnrollmentSettings:
    return EnrollmentSettings.objects.first() or EnrollmentSettings()
