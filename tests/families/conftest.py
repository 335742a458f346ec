"""Fixtures for the families tests: a family built through the services in account A."""

from datetime import date

import pytest

from classbook.core.tenancy import activate_account
from classbook.families import services as svc


def guardian_details(**extra) -> svc.GuardianDetails:
    values = {
        "first_name": "Maria",
        "last_name": "Garcia",
        "email": "maria.garcia@example.com",
        "mobile_phone": "(512) 555-0142",
        **extra,
    }
    return svc.GuardianDetails(**values)


def student_details(**extra) -> svc.StudentDetails:
    values = {
        "first_name": "Ana",
        "last_name": "Garcia",
        "date_of_birth": date(2017, 3, 4),
        **extra,
    }
    return svc.StudentDetails(**values)


def create_family(name="Garcia", guardian=None, students=None, **extra):
    return svc.family_create(
        details=svc.FamilyDetails(name=name, city=extra.pop("city", "Austin")),
        guardian=guardian or guardian_details(last_name=name),
        students=students if students is not None else [student_details(last_name=name)],
        **extra,
    )


@pytest.fixture
def in_a(account_a):
    with activate_account(account_a):
        yield account_a


@pytest.fixture
def garcia(in_a):
    return create_family(
        students=[
            student_details(),
            student_details(first_name="Leo", date_of_birth=date(2019, 9, 12)),
        ]
    )
