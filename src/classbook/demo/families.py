"""Deterministic demo families: guardians, students, contacts, notes, tags.

``generate_families(count=300)`` fills the demo account; ``count=10_000`` builds the large
account of the benchmarks. Same ``seed`` and ``today`` → the same families, names, ages
and phone numbers. Rows go in with ``bulk_create`` (a 10,000-family account takes seconds),
with the same derived fields the services keep (``Family.search_text``, phone digits,
one primary guardian per family), and one summary audit entry.

Emails use example.com/.net/.org and phones the 555 exchange, so nothing generated can
reach a real person.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from faker import Faker

from classbook.accounts.models import User
from classbook.audit.actions import register_action
from classbook.audit.services import log_action
from classbook.catalog.models import Level
from classbook.core import clock
from classbook.core.tenancy import require_account
from classbook.families.models import (
    EmergencyContact,
    Family,
    FamilyTag,
    Guardian,
    StaffNote,
    Student,
    Tag,
    phone_digits,
)
from classbook.families.search import build_search_text

FAMILIES_GENERATED = register_action("demo.families_generated", "Demo families generated")

BATCH = 1000
AREA_CODES = ["512", "737", "210", "254", "361", "830"]
CITIES = [
    ("Austin", "787"),
    ("Round Rock", "786"),
    ("Pflugerville", "786"),
    ("Cedar Park", "786"),
    ("Georgetown", "786"),
    ("Leander", "786"),
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
TAGS = ["VIP", "Staff family", "Scholarship", "Needs follow-up", "Homeschool", "Team parent"]
ALLERGIES = [
    "Peanuts",
    "Tree nuts",
    "Bee stings",
    "Latex",
    "Penicillin",
    "Dairy",
    "Eggs",
    "Shellfish",
]
MEDICAL = [
    "Asthma — inhaler in backpack",
    "Type 1 diabetes — may need a snack break",
    "Wears glasses; remove for tumbling",
    "ADHD — does best with clear, short instructions",
    "Mild hearing loss in left ear",
    "Recovering from a wrist sprain — no handstands until cleared",
    "Epilepsy — seizure plan on file",
    "EpiPen in the front-desk cabinet",
]
NOTES = [
    "Prefers texts over calls.",
    "Asked about the competitive team tryouts.",
    "Paid the registration fee in cash at the desk.",
    "Grandmother usually does pick-up on Thursdays.",
    "Interested in summer camp — send the brochure.",
    "Sibling on the waitlist for Level 2.",
    "Requested a makeup class after the holiday closure.",
    "Moving in August; may switch to the Northgate location.",
]
CONTACT_RELATIONSHIPS = ["Grandmother", "Grandfather", "Aunt", "Uncle", "Neighbor", "Family friend"]
GUARDIAN_RELATIONSHIPS = {"F": "Mother", "M": "Father"}


@dataclass(frozen=True)
class Generated:
    families: int
    guardians: int
    students: int
    contacts: int
    notes: int
    tagged: int


def _phone(rng: random.Random) -> str:
    return f"({rng.choice(AREA_CODES)}) 555-{rng.randint(100, 9999):04d}"


def _birth_date(rng: random.Random, today: date) -> date:
    age_days = rng.randint(3 * 365 + 1, 17 * 365 + 300)
    return today - timedelta(days=age_days)


@transaction.atomic
def generate_families(*, count: int, seed: int = 2026, today: date | None = None) -> Generated:
    """Create ``count`` families in the active account (see the module docstring)."""
    if count < 0:
        raise ValueError("count must be zero or more")
    account = require_account()
    today = today or timezone.localdate(clock.now())
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    levels = list(Level.objects.filter(is_active=True).order_by("id"))
    authors = list(User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("id"))
    tags = []
    for name in TAGS:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    midnight = timezone.make_aware(datetime.combine(today, time(9)))

    totals = {"guardians": 0, "students": 0, "contacts": 0, "notes": 0, "tagged": 0}
    used_emails: set[str] = set()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        families, people = [], []
        for _ in range(size):
            last = fake.last_name()
            city, zip_prefix = rng.choice(CITIES)
            created = midnight - timedelta(
                days=rng.randint(0, 3 * 365), minutes=rng.randint(0, 600)
            )
            guardians = []
            n_guardians = 2 if rng.random() < 0.45 else 1
            first_sex = "F" if rng.random() < 0.78 else "M"
            for index in range(n_guardians):
                sex = first_sex if index == 0 else ("M" if first_sex == "F" else "F")
                first = fake.first_name_female() if sex == "F" else fake.first_name_male()
                surname = last if rng.random() < 0.85 else fake.last_name()
                email = ""
                if rng.random() < 0.96:
                    local = f"{first}.{surname}".lower().replace(" ", "").replace("'", "")
                    email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
                    suffix = 2
                    while email in used_emails:
                        email = f"{local}{suffix}@{email.split('@')[1]}"
                        suffix += 1
                    used_emails.add(email)
                mobile = _phone(rng)
                home = _phone(rng) if rng.random() < 0.15 else ""
                guardians.append(
                    Guardian(
                        account=account,
                        first_name=first,
                        last_name=surname,
                        relationship=GUARDIAN_RELATIONSHIPS[sex],
                        email=email,
                        mobile_phone=mobile,
                        mobile_digits=phone_digits(mobile),
                        home_phone=home,
                        home_digits=phone_digits(home),
                        sms_opt_in=rng.random() < 0.7,
                        is_primary=index == 0,
                        created_at=created,
                    )
                )
            n_students = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            students = []
            for _ in range(n_students):
                female = rng.random() < 0.62
                students.append(
                    Student(
                        account=account,
                        first_name=fake.first_name_female() if female else fake.first_name_male(),
                        last_name=last,
                        date_of_birth=_birth_date(rng, today),
                        gender=Student.Gender.FEMALE if female else Student.Gender.MALE,
                        level=rng.choice(levels) if levels and rng.random() < 0.5 else None,
                        allergies=rng.choice(ALLERGIES) if rng.random() < 0.10 else "",
                        medical_notes=rng.choice(MEDICAL) if rng.random() < 0.08 else "",
                        created_at=created,
                    )
                )
            contacts = []
            if rng.random() < 0.7:
                phone = _phone(rng)
                contacts.append(
                    EmergencyContact(
                        account=account,
                        name=f"{fake.first_name()} {rng.choice([last, fake.last_name()])}",
                        relationship=rng.choice(CONTACT_RELATIONSHIPS),
                        phone=phone,
                        phone_digits=phone_digits(phone),
                        created_at=created,
                    )
                )
            notes = []
            if rng.random() < 0.2:
                notes.append(
                    StaffNote(
                        account=account,
                        author=rng.choice(authors) if authors else None,
                        body=rng.choice(NOTES),
                        created_at=created + timedelta(days=rng.randint(0, 30)),
                    )
                )
            family_tags = [rng.choice(tags)] if rng.random() < 0.15 else []
            families.append(
                Family(
                    account=account,
                    name=last,
                    address_line1=fake.street_address(),
                    city=city,
                    region="TX",
                    postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
                    created_at=created,
                    updated_at=created,
                    search_text=build_search_text(
                        family_name=last,
                        guardians=[
                            (g.first_name, g.last_name, g.email, g.phone_digit_set)
                            for g in guardians
                        ],
                        students=[(s.first_name, s.last_name) for s in students],
                    ),
                )
            )
            people.append((guardians, students, contacts, notes, family_tags))
        Family.objects.bulk_create(families)
        rows: dict[type, list] = {Guardian: [], Student: [], EmergencyContact: [], StaffNote: []}
        links = []
        for family, (guardians, students, contacts, notes, family_tags) in zip(
            families, people, strict=True
        ):
            for group in (guardians, students, contacts, notes):
                for row in group:
                    row.family = family
                    rows[type(row)].append(row)
            links += [FamilyTag(account=account, family=family, tag=t) for t in family_tags]
        for model, objs in rows.items():
            model.objects.bulk_create(objs)
        FamilyTag.objects.bulk_create(links)
        totals["guardians"] += len(rows[Guardian])
        totals["students"] += len(rows[Student])
        totals["contacts"] += len(rows[EmergencyContact])
        totals["notes"] += len(rows[StaffNote])
        totals["tagged"] += len(links)
    result = Generated(families=count, **totals)
    log_action(
        action=FAMILIES_GENERATED,
        label=f"{count} demo families",
        changes={key: [None, value] for key, value in asdict(result).items()}
        | {"seed": [None, seed]},
    )
    return result
