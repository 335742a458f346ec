"""The demo account, "Sunrise Gymnastics" (slug ``sunrise``), built deterministically.

Locations and staff, then the catalog (classes, camps, closures), families, and a season
of activity (enrollments, tuition, a year of ledger history). Every login gets the fixed
password below so the demo's printed logins keep working across restarts. The same
generators build the large data sets of the benchmarks (``--families 10000``).
"""

from dataclasses import dataclass

from django.db import transaction

from classbook.accounts.models import Account, User
from classbook.accounts.services import account_create, location_save, operator_create
from classbook.core.tenancy import activate_account
from classbook.staff.models import UserGroup
from classbook.staff.services import staff_create

DEMO_SLUG = "sunrise"
DEMO_PASSWORD = "Sunrise-Demo-2026"
OPERATOR_USERNAME = "operator"
OPERATOR_PASSWORD = "Platform-Demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    where: str
    username: str
    password: str
    who: str


STAFF = [
    # username, first, last, title, User Group, limited to location
    ("manager", "Marcus", "Lee", "Gym manager", "Manager", None),
    ("frontdesk", "Priya", "Shah", "Front desk", "Front Desk", None),
    ("coach", "Sam", "Rivera", "Instructor", "Instructor", "Riverside"),
]

LOCATIONS = [
    dict(
        name="Riverside",
        address_line1="1200 River Rd",
        city="Austin",
        region="TX",
        postal_code="78701",
        phone="(512) 555-0142",
    ),
    dict(
        name="Northgate",
        address_line1="88 Northgate Blvd, Suite 4",
        city="Austin",
        region="TX",
        postal_code="78758",
        phone="(512) 555-0187",
    ),
]


def demo_logins() -> list[DemoLogin]:
    office = f"/{DEMO_SLUG}/office/"
    return [
        DemoLogin(office, "owner", DEMO_PASSWORD, "Dana Morgan, owner (Owner)"),
        *[
            DemoLogin(office, u, DEMO_PASSWORD, f"{f} {last}, {t.lower()} ({group})")
            for u, f, last, t, group, _ in STAFF
        ],
        DemoLogin("/platform/", OPERATOR_USERNAME, OPERATOR_PASSWORD, "platform operator"),
    ]


@transaction.atomic
def load_demo_data(*, families: int = 300, classes: int = 60, seed: int = 2026) -> bool:
    """Create the demo account unless it exists; returns True when it was created."""
    from classbook.demo.activity import generate_activity
    from classbook.demo.catalog import generate_catalog
    from classbook.demo.families import generate_families

    if Account.objects.filter(slug=DEMO_SLUG).exists():
        return False
    created = account_create(
        slug=DEMO_SLUG,
        name="Sunrise Gymnastics",
        owner_email="dana@sunrise-gym.example",
        owner_username="owner",
        owner_password=DEMO_PASSWORD,
        owner_first_name="Dana",
        owner_last_name="Morgan",
        timezone="America/Chicago",
    )
    with activate_account(created.account):
        locations = {f["name"]: location_save(timezone="America/Chicago", **f) for f in LOCATIONS}
        for username, first, last, title, group, location in STAFF:
            staff_create(
                username=username,
                email=f"{username}@sunrise-gym.example",
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                title=title,
                group_ids=[UserGroup.objects.get(name=group).pk],
                location_ids=[locations[location].pk] if location else [],
            )
        generate_catalog(seed=seed, classes=classes, instructor_password=DEMO_PASSWORD)
        generate_families(count=families, seed=seed)
        generate_activity(seed=seed)
        from classbook.portal.services import portal_settings_update

        portal_settings_update(
            mode="active",
            allow_pay_later=True,
            welcome_text="Gymnastics for every age: find a class, hold a seat, pay online.",
            drop_notice_days=14,
        )
    if not User.objects.filter(username=OPERATOR_USERNAME).exists():  # operators: no account
        operator_create(
            username=OPERATOR_USERNAME, email="ops@classbook.example", password=OPERATOR_PASSWORD
        )
    return True
