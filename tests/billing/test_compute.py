"""Named cases for proration and discounts, each with the expected cents."""

from datetime import date

import pytest

from classbook.billing import services
from classbook.billing.compute import bill_families, seats_for_period
from classbook.catalog.services import closure_save
from classbook.enrollment import services as enrollment
from tests.billing.helpers import JAN, enroll, make_student, monthly_rule, priced_class
from tests.ledger.helpers import make_family


def bill(period=JAN):
    return bill_families(seats_for_period(period), period=period)


def lines(bills, family):
    return sorted(
        (ln.kind, ln.amount_cents, ln.description.split(":")[0]) for ln in bills[family.pk].lines
    )


def test_full_month(in_a):
    klass = priced_class(monthly_rule(8000), weekdays=(1,))  # 4 Tuesdays in January
    kid = make_student()
    enroll(kid, klass)
    assert lines(bill(), kid.family) == [("charge", 8000, "Tuition January 2027")]


def test_mid_month_start_is_prorated_by_meetings(in_a):
    klass = priced_class(monthly_rule(8000), weekdays=(1,))
    kid = make_student()
    enroll(kid, klass, start=date(2027, 1, 13))  # Jan 19 and 26: 2 of 4 meetings
    [line] = bill()[kid.family.pk].lines
    assert line.amount_cents == 4000
    assert line.explanation == "80.00 × 2/4 meetings in January 2027"


def test_drop_on_the_15th(in_a):
    klass = priced_class(monthly_rule(9000), weekdays=(0, 2))  # Mon+Wed: 8 meetings
    kid = make_student()
    enrolled = enroll(kid, klass)
    enrollment.drop(enrollment=enrolled, effective_date=date(2027, 1, 15), reason="Moving")
    [line] = bill()[kid.family.pk].lines  # attends Jan 4, 6, 11, 13: 4 of 8 meetings
    assert line.amount_cents == 4500


def test_closure_weeks_are_not_meetings(in_a):
    klass = priced_class(monthly_rule(8000), weekdays=(1,))
    closure_save(name="Winter break", start_date=date(2027, 1, 1), end_date=date(2027, 1, 8))
    kid = make_student()
    enroll(kid, klass, start=date(2027, 1, 13))  # held: 12, 19, 26 → attends 19, 26
    [line] = bill()[kid.family.pk].lines
    assert line.amount_cents == 5333  # 8000 × 2/3 rounded half up


@pytest.mark.parametrize("policy, cents", [("prorate", 4000), ("full", 8000), ("none", None)])
def test_proration_policy(in_a, policy, cents):
    services.billing_settings_update(proration=policy)
    klass = priced_class(monthly_rule(8000), weekdays=(1,))
    kid = make_student()
    enroll(kid, klass, start=date(2027, 1, 13))
    found = [ln.amount_cents for ln in bill().get(kid.family.pk, None).lines] if bill() else []
    assert found == ([cents] if cents else [])


def test_three_siblings_across_two_locations(in_a):
    from classbook.accounts.services import location_save

    second = location_save(name="Northgate", city="Austin")
    services.billing_settings_update(
        sibling_kind="percent", sibling_second=10, sibling_third_plus=20
    )
    rule = monthly_rule(8000)
    riverside = priced_class(rule, name="Riverside class", weekdays=(1,))
    northgate = priced_class(
        rule, name="Northgate class", weekdays=(3,), location=second, capacity=10
    )
    family = make_family("Nguyen")
    cheap = services.tuition_rule_save(name="Mini", kind="monthly", amount_cents=5000)
    mini = priced_class(cheap, name="Mini", weekdays=(4,))
    ann = make_student("Ann", family=family)
    ben = make_student("Ben", family=family)
    cal = make_student("Cal", family=family)
    enroll(ann, riverside)
    enroll(ben, northgate)
    enroll(cal, mini)
    result = lines(bill(), family)
    # Ann and Ben pay 80.00 (ties ordered by student), Cal pays 50.00 and is the 3rd child.
    assert ("credit", 800, "Sibling discount (2nd child) January 2027") in result
    assert ("credit", 1000, "Sibling discount (3rd child) January 2027") in result
    services.billing_settings_update(combine_locations=False)
    separate = lines(bill(), family)
    # Counted per location: Riverside has Ann (80) and Cal (50) → Cal is 2nd there.
    assert [ln for ln in separate if ln[0] == "credit"] == [
        ("credit", 500, "Sibling discount (2nd child) January 2027")
    ]


def test_multi_class_discount_goes_to_the_cheaper_class(in_a):
    services.billing_settings_update(
        multiclass_kind="amount", multiclass_second=1500, multiclass_third_plus=2000
    )
    kid = make_student()
    enroll(kid, priced_class(monthly_rule(9000, "Team"), name="Team", weekdays=(1,)))
    enroll(kid, priced_class(monthly_rule(6000, "Tumbling"), name="Tumbling", weekdays=(3,)))
    enroll(kid, priced_class(monthly_rule(4000, "Ninja"), name="Ninja", weekdays=(4,)))
    credits = [ln for ln in bill()[kid.family.pk].lines if ln.kind == "credit"]
    assert [(c.amount_cents, "Ninja" in c.key or c.description) for c in credits] == [
        (1500, credits[0].description),
        (2000, credits[1].description),
    ]
    assert "2nd class" in credits[0].description and "3rd class" in credits[1].description


def test_per_meeting_and_per_session_rules(in_a):
    drop_in = services.tuition_rule_save(name="Drop-in", kind="meeting", amount_cents=1800)
    term_rule = services.tuition_rule_save(name="Session", kind="term", amount_cents=30000)
    from classbook.catalog.services import term_save

    winter = term_save(name="Winter 2027", start_date=date(2027, 1, 4), end_date=date(2027, 3, 29))
    kid = make_student()
    enroll(kid, priced_class(drop_in, name="Open gym", weekdays=(5,)))  # Sat 9, 16, 23, 30
    enroll(
        kid,
        priced_class(
            term_rule, name="Session class", weekdays=(1,), term=winter, start=None, end=None
        ),
    )
    found = lines(bill(), kid.family)
    assert ("charge", 7200, "Tuition January 2027") in found  # 4 × 18.00
    assert ("charge", 30000, "Tuition January 2027") in found  # the session, in its 1st month
    feb = bill_families(seats_for_period(date(2027, 2, 1)), period=date(2027, 2, 1))
    assert all(ln.amount_cents != 30000 for ln in feb[kid.family.pk].lines)


def test_hour_table_prices_the_familys_weekly_time(in_a):
    table = services.tuition_rule_save(
        name="Hours", kind="hours", hour_table=[[60, 7000], [120, 12000], [240, 20000]]
    )
    family = make_family("Hours")
    ann, ben = make_student("Ann", family=family), make_student("Ben", family=family)
    enroll(ann, priced_class(table, name="A", weekdays=(1,)))  # 60 min a week
    enroll(ben, priced_class(table, name="B", weekdays=(3,)))  # 60 min a week
    [line] = bill()[family.pk].lines
    assert line.amount_cents == 12000 and "2 h 00 min a week" in line.description


def test_registration_fee_once_per_membership_year(in_a):
    services.billing_settings_update(
        registration_fee_cents=3500, registration_fee_scope="family", membership_year_start_month=9
    )
    kid = make_student()
    enroll(kid, priced_class(monthly_rule(8000), weekdays=(1,)))
    found = lines(bill(), kid.family)
    assert ("charge", 3500, "Registration fee 2026–2027") in found
    posted = {f"regfee:family:{kid.family.pk}:2026"}
    again = bill_families(seats_for_period(JAN), period=JAN, posted_keys=posted)
    assert all("Registration" not in ln.description for ln in again[kid.family.pk].lines)


def test_class_without_a_rule_is_a_warning_not_a_charge(in_a):
    from tests.enrollment.helpers import make_class

    kid = make_student()
    enroll(kid, make_class())
    result = bill()[kid.family.pk]
    assert result.lines == [] and "no tuition rule" in result.warnings[0]


def test_percentage_above_100_is_refused(in_a):
    from classbook.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="above 100"):
        services.billing_settings_update(sibling_second=150)
