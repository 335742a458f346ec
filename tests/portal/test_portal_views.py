"""Portal pages through the test client: public pages, modes and preview, the wizard,
the cart and its timer, checkout (sign-up, assignment, policies, pay later, bad input),
family pages and their isolation, the office settings page."""

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from classbook.accounts.services import location_save
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.enrollment import services as enrollment
from classbook.enrollment.models import Enrollment, EnrollmentRequest, Hold, WaitlistEntry
from classbook.families import services as families
from classbook.families.models import Family, PolicyAcceptance, Student
from classbook.ledger.models import LedgerEntry
from classbook.payments.models import PaymentAttempt
from classbook.portal.models import Checkout, PortalSettings
from tests.conftest import office_login
from tests.portal.helpers import (
    FIRST_TUESDAY,
    MONTHLY_CENTS,
    guardian_login,
    make_camp,
    make_class,
    make_family,
    monthly_rule,
    portal_on,
)

ANA_DOB = "2019-03-04"


def _today():
    from zoneinfo import ZoneInfo

    return clock.now().astimezone(ZoneInfo("America/Chicago")).date()


@pytest.fixture
def gym(account_a):
    """Account A with an active portal, a priced class and a policy."""
    with activate_account(account_a):
        portal_on(allow_pay_later=True)
        monthly_rule()
        klass = make_class(capacity=2)
        families.policy_publish(name="Safety waiver", text="Children may fall.", kind="waiver")
    return {"account": account_a, "klass": klass}


def _add(client, klass, **data):
    return client.post(f"/alpha/portal/classes/{klass.pk}/add/", {"dob": ANA_DOB, **data})


def _holds(account):
    with activate_account(account):
        return list(Hold.objects.select_related("student"))


# --- public pages and modes ---------------------------------------------------------------


def test_public_pages_answer_anonymous_visitors(client, gym):
    klass = gym["klass"]
    with activate_account(gym["account"]):
        camp = make_camp()
    for path in (
        "/alpha/portal/",
        "/alpha/portal/find/",
        "/alpha/portal/classes/",
        "/alpha/portal/calendar/",
        "/alpha/portal/calendar/?week=2027-01-04",
        f"/alpha/portal/classes/{klass.pk}/",
        "/alpha/portal/camps/",
        f"/alpha/portal/camps/{camp.pk}/",
        "/alpha/portal/cart/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    listing = client.get("/alpha/portal/classes/").content.decode()
    assert klass.name in listing and "2 left" in listing and "$80.00 a month" in listing
    assert (
        "Level 1 Tumblers" in client.get("/alpha/portal/calendar/?week=2027-01-04").content.decode()
    )


def test_portal_off_says_registration_is_not_open_and_staff_preview_read_only(
    client, account_a, alice
):
    with activate_account(account_a):
        klass = make_class()
    page = client.get("/alpha/portal/classes/").content.decode()
    assert "Online registration is not open" in page and klass.name not in page
    assert "not open" in _add(client, klass).content.decode()
    assert _holds(account_a) == []
    office_login(client, account_a, "alice")
    preview = client.get("/alpha/portal/classes/").content.decode()
    assert "Preview for staff" in preview and klass.name in preview
    detail = client.get(f"/alpha/portal/classes/{klass.pk}/").content.decode()
    assert "Adding is off in this preview" in detail
    response = _add(client, klass)
    assert response.status_code == 302 and _holds(account_a) == []
    with activate_account(account_a):
        portal_on(mode="setup")
    assert "in setup mode" in client.get("/alpha/portal/").content.decode()


def test_old_parent_addresses_move_permanently(client, account_a):
    response = client.get("/alpha/parent/")
    assert response.status_code == 301 and response["Location"] == "/alpha/portal/"
    response = client.get("/alpha/parent/classes/list?program=3")
    assert (
        response.status_code == 301 and response["Location"] == "/alpha/portal/classes/?program=3"
    )
    assert client.get("/alpha/parent/login").status_code == 301


# --- the finder wizard --------------------------------------------------------------------


def test_wizard_walks_location_who_program_when_and_shows_eligible_classes(client, gym):
    with activate_account(gym["account"]):
        second = location_save(name="North Gym")
        make_class("Tots", min_age_months=24, max_age_months=47, weekdays=(2,))
        make_class("North Tumblers", location=second, weekdays=(3,))
    page = client.get("/alpha/portal/find/").content.decode()
    assert "Which location?" in page and "North Gym" in page
    location = gym["klass"].location_id
    page = client.get(f"/alpha/portal/find/?location={location}").content.decode()
    assert "Who is the class for?" in page
    future = (_today() + timedelta(days=3)).isoformat()
    response = client.get(f"/alpha/portal/find/?location={location}&dob={future}")
    assert response.status_code == 400 and "in the future" in response.content.decode()
    page = client.get(f"/alpha/portal/find/?location={location}&dob={ANA_DOB}").content.decode()
    assert "What would you like?" in page
    page = client.get(
        f"/alpha/portal/find/?location={location}&dob={ANA_DOB}&program=any"
    ).content.decode()
    assert "When suits you?" in page
    results = client.get(
        f"/alpha/portal/find/?location={location}&dob={ANA_DOB}&program=any&when=1&days=1"
    ).content.decode()
    assert "Level 1 Tumblers" in results and "2 left" in results
    assert "Tots" not in results and "North Tumblers" not in results
    assert "Add to cart" in results


# --- the cart -----------------------------------------------------------------------------


def test_adding_holds_the_seat_and_the_cart_counts_down(client, gym):
    response = _add(client, gym["klass"])
    assert response.status_code == 302 and response["Location"] == "/alpha/portal/cart/"
    (hold,) = _holds(gym["account"])
    assert hold.student is None and hold.child_label == "Child born Mar 4, 2019"
    page = client.get("/alpha/portal/cart/").content.decode()
    assert 'id="cart-timer"' in page and "Level 1 Tumblers" in page
    status = client.get("/alpha/portal/cart/status/").json()
    assert status["count"] == 1 and status["expires_at"]
    # the seat counts: the listing shows one seat fewer
    assert "1 left" in client.get("/alpha/portal/classes/").content.decode()


def test_every_cart_view_extends_the_holds_and_expiry_releases_them(client, gym):
    _add(client, gym["klass"])
    (hold,) = _holds(gym["account"])
    later = hold.expires_at - timedelta(seconds=30)
    with clock.freeze(later):
        client.get("/alpha/portal/cart/")
    (touched,) = _holds(gym["account"])
    assert touched.expires_at > hold.expires_at
    with clock.freeze(touched.expires_at + timedelta(seconds=1)):
        page = client.get("/alpha/portal/cart/?expired=1").content.decode()
    assert "Your reservation ran out" in page and "released" in page
    assert _holds(gym["account"]) == []


def test_bad_adds_get_plain_messages(client, gym, account_b):
    with activate_account(account_b):
        portal_on()
        theirs = make_class("Bravo class")
    response = _add(client, theirs)  # another account's class id under this portal
    assert response.status_code == 404 and "not offered here" in response.content.decode()
    response = _add(client, gym["klass"], dob="2024-01-01")
    assert response.status_code == 400 and "Too young" in response.content.decode()
    future = (_today() + timedelta(days=10)).isoformat()
    response = _add(client, gym["klass"], dob=future)
    assert response.status_code == 400 and "in the future" in response.content.decode()
    assert _holds(gym["account"]) == []


def test_a_full_class_offers_the_waitlist(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
        other = make_family(
            "Lee",
            login=False,
            children=[("A", date(2019, 1, 1), "female"), ("B", date(2019, 2, 2), "male")],
        )
        for kid in Student.objects.filter(family=other):
            enrollment.enroll(student=kid, klass=gym["klass"], start_date=FIRST_TUESDAY)
    response = _add(client, gym["klass"])
    assert response.status_code == 409 and "Sign in" in response.content.decode()
    guardian_login(client, gym["account"], family)
    with activate_account(gym["account"]):
        ana = Student.objects.get(family=family)
    response = client.post(f"/alpha/portal/classes/{gym['klass'].pk}/add/", {"student": ana.pk})
    assert response.status_code == 409 and "Join the waitlist for Ana" in response.content.decode()
    response = client.post(
        f"/alpha/portal/classes/{gym['klass'].pk}/waitlist/", {"student": ana.pk}
    )
    assert response.status_code == 302
    with activate_account(gym["account"]):
        assert WaitlistEntry.objects.get(student=ana).status == "waiting"


def test_removing_someone_elses_hold_changes_nothing(client, gym):
    with activate_account(gym["account"]):
        from classbook.enrollment.services import HoldRequest

        (theirs,) = enrollment.hold_seats(
            cart="someone-else",
            requests=[HoldRequest(klass=gym["klass"], start_date=FIRST_TUESDAY)],
        )
    response = client.post(f"/alpha/portal/cart/{theirs.pk}/remove/")
    assert response.status_code == 302
    assert len(_holds(gym["account"])) == 1


# --- checkout -----------------------------------------------------------------------------


SIGNUP = {
    "first_name": "Rosa",
    "last_name": "Lopez",
    "email": "rosa@lopez.example",
    "mobile_phone": "(512) 555-0199",
    "password1": "Backflip-Summer-2026",
    "password2": "Backflip-Summer-2026",
    "contact_name": "Grandma Lopez",
    "contact_phone": "(512) 555-0100",
    "students-TOTAL_FORMS": "1",
    "students-INITIAL_FORMS": "0",
    "students-MIN_NUM_FORMS": "1",
    "students-MAX_NUM_FORMS": "1000",
    "students-0-first_name": "Lucia",
    "students-0-last_name": "Lopez",
    "students-0-date_of_birth": ANA_DOB,
    "students-0-gender": "female",
    "students-0-medical_notes": "Asthma: inhaler in her bag",
}


def _checkout_form(client):
    page = client.get("/alpha/portal/checkout/")
    html = page.content.decode()
    fields = dict(re.findall(r'name="(request_token|total_cents)" value="([^"]*)"', html))
    accept = re.findall(r'name="(accept_\d+)"', html)
    return page, fields, accept


def test_new_family_signs_up_accepts_the_waiver_and_pays_later(
    client, gym, mailoutbox, django_capture_on_commit_callbacks
):
    _add(client, gym["klass"])
    assert "Create a family account" in client.get("/alpha/portal/checkout/").content.decode()
    future = (_today() + timedelta(days=1)).isoformat()
    bad = client.post(
        "/alpha/portal/checkout/sign-up/", {**SIGNUP, "students-0-date_of_birth": future}
    )
    assert bad.status_code == 400 and "in the future" in bad.content.decode()
    response = client.post("/alpha/portal/checkout/sign-up/", SIGNUP)
    assert response.status_code == 302 and response["Location"] == "/alpha/portal/checkout/"
    page, fields, accept = _checkout_form(client)
    html = page.content.decode()
    assert "Lucia Lopez" in html and "$80.00" in html and "Safety waiver" in html
    (hold,) = _holds(gym["account"])
    assert hold.student.first_name == "Lucia"  # assigned: the only child born that day
    # without accepting the waiver: refused, nothing enrolled
    response = client.post("/alpha/portal/checkout/pay/", {**fields, "method": "later"})
    assert response.status_code == 400 and "accept" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/alpha/portal/checkout/pay/",
            {**fields, "method": "later", **dict.fromkeys(accept, "on")},
        )
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "You are enrolled" in done and "Lucia" in done
    with activate_account(gym["account"]):
        family = Family.objects.get(name="Lopez")
        assert Enrollment.objects.get(student__family=family).source == "portal"
        assert LedgerEntry.objects.get(family=family, kind="charge").amount_cents == MONTHLY_CENTS
        assert PolicyAcceptance.objects.get(family=family).method == "portal"
        assert family.emergency_contacts.get().name == "Grandma Lopez"
        assert Student.objects.get(family=family).medical_notes.startswith("Asthma")
        assert Checkout.objects.get(family=family).status == "pay_later"
    assert any("enrollment confirmed" in m.subject for m in mailoutbox)
    # the same form again (back button, second tab): no second enrollment or charge
    again = client.post(
        "/alpha/portal/checkout/pay/", {**fields, "method": "later", **dict.fromkeys(accept, "on")}
    )
    assert again.status_code == 302
    with activate_account(gym["account"]):
        assert Enrollment.objects.filter(student__family=family).count() == 1
        assert LedgerEntry.objects.filter(family=family).count() == 1


def test_a_changed_total_is_refused_without_charging(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    _, fields, accept = _checkout_form(client)
    response = client.post(
        "/alpha/portal/checkout/pay/",
        {**fields, "total_cents": "100", "method": "later", **dict.fromkeys(accept, "on")},
    )
    assert response.status_code == 409 and "The total changed" in response.content.decode()
    with activate_account(gym["account"]):
        assert not Enrollment.objects.filter(student__family=family).exists()
        assert not LedgerEntry.objects.filter(family=family).exists()


def test_a_foreign_student_id_cannot_take_the_seat(client, gym):
    with activate_account(gym["account"]):
        family = make_family(
            children=[("Ana", date(2019, 3, 4), "female"), ("Eva", date(2019, 3, 4), "female")]
        )
        stranger = Student.objects.get(family=make_family("Lee", login=False))
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    (hold,) = _holds(gym["account"])
    assert hold.student is None  # two children born that day: the parent chooses
    response = client.post("/alpha/portal/checkout/assign/", {f"hold_{hold.pk}": stranger.pk})
    assert response.status_code == 400 and "Choose one of your family" in response.content.decode()
    assert _holds(gym["account"])[0].student_id is None


def test_an_ineligible_student_is_refused_at_assignment(client, gym):
    with activate_account(gym["account"]):
        family = make_family(children=[("Tiny", date(2024, 5, 5), "male")])
        tiny = Student.objects.get(family=family)
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    (hold,) = _holds(gym["account"])
    response = client.post("/alpha/portal/checkout/assign/", {f"hold_{hold.pk}": tiny.pk})
    assert response.status_code == 400 and "Too young" in response.content.decode()


def test_an_expired_hold_at_checkout_charges_nothing(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    _, fields, accept = _checkout_form(client)
    (hold,) = _holds(gym["account"])
    with clock.freeze(hold.expires_at + timedelta(seconds=5)):
        response = client.post(
            "/alpha/portal/checkout/pay/",
            {**fields, "method": "later", **dict.fromkeys(accept, "on")},
        )
        assert response.status_code == 302 and response["Location"] == "/alpha/portal/cart/"
        page = client.get("/alpha/portal/cart/").content.decode()
    assert "ran out before you paid" in page
    with activate_account(gym["account"]):
        assert not Enrollment.objects.filter(student__family=family).exists()


def test_paying_by_saved_card_and_declined_card(client, gym, gateway, sandbox_url):
    from classbook.payments import services as payments
    from tests.payments.conftest import card

    with activate_account(gym["account"]):
        family = make_family()
        declined = payments.card_save(
            family=family, payment_method_id=card(sandbox_url, "4000000000000341")
        )
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    _, fields, accept = _checkout_form(client)
    response = client.post(
        "/alpha/portal/checkout/pay/",
        {**fields, "method": f"card:{declined.pk}", **dict.fromkeys(accept, "on")},
    )
    assert response.status_code == 402
    assert "The card was declined" in response.content.decode()
    assert len(_holds(gym["account"])) == 1
    with activate_account(gym["account"]):
        good = payments.card_save(family=family, payment_method_id=card(sandbox_url))
    _, fields, _ = _checkout_form(client)
    response = client.post("/alpha/portal/checkout/pay/", {**fields, "method": f"card:{good.pk}"})
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "You are enrolled" in done and "Receipt #" in done
    with activate_account(gym["account"]):
        assert LedgerEntry.objects.filter(family=family, kind="payment").count() == 1
        assert Enrollment.objects.filter(student__family=family).count() == 1


# --- family pages -------------------------------------------------------------------------


FAMILY_PAGES = [
    "family/schedule/",
    "family/account/",
    "family/account/pay/",
    "family/statements/2027/1/",
    "family/cards/",
    "family/guardians/",
    "family/students/",
    "family/requests/",
    "family/requests/drop/",
    "family/requests/transfer/",
    "family/requests/trial/",
    "family/requests/makeup/",
]


def test_family_pages_for_the_guardian(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
        enrollment.enroll(
            student=Student.objects.get(family=family), klass=gym["klass"], start_date=FIRST_TUESDAY
        )
    guardian_login(client, gym["account"], family)
    dashboard = client.get("/alpha/portal/family/").content.decode()
    assert "Hello, Maria" in dashboard and "Level 1 Tumblers" in dashboard
    for path in FAMILY_PAGES:
        assert client.get(f"/alpha/portal/{path}").status_code == 200, path


def test_a_guardian_of_another_account_gets_404_on_family_pages(client, gym, account_b):
    with activate_account(account_b):
        theirs = make_family("Bravo")
    guardian_login(client, account_b, theirs)
    for path in FAMILY_PAGES:
        assert client.get(f"/alpha/portal/{path}").status_code == 404, path
    # the dashboard's address sends them to this portal's log-in, as before
    assert client.get("/alpha/portal/family/").status_code == 302


def test_another_familys_objects_are_not_found(client, gym):
    with activate_account(gym["account"]):
        family, other = make_family(), make_family("Lee", email="lee@x.example")
        from classbook.ledger import services as ledger

        payment = ledger.payment_record(family=other, method="cash", amount_cents=500)
        student = Student.objects.get(family=other)
    guardian_login(client, gym["account"], family)
    assert client.get(f"/alpha/portal/family/receipts/{payment.pk}/").status_code == 404
    assert client.get(f"/alpha/portal/family/students/{student.pk}/").status_code == 404


def test_ical_feed_is_signed(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
        enrollment.enroll(
            student=Student.objects.get(family=family), klass=gym["klass"], start_date=FIRST_TUESDAY
        )
    guardian_login(client, gym["account"], family)
    page = client.get("/alpha/portal/family/schedule/").content.decode()
    feed = re.search(r'value="http://testserver(/alpha/portal/calendar/[^"]+\.ics)"', page).group(1)
    client.post("/alpha/portal/logout/")
    response = client.get(feed)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "SUMMARY:Ana: Level 1 Tumblers" in body
    assert client.get(feed.replace(".ics", "x.ics")).status_code == 404
    assert client.get("/bravo/portal/calendar/" + feed.rsplit("/", 1)[1]).status_code == 404


def test_drop_request_respects_the_accounts_notice_and_shows_the_answer(client, gym):
    with activate_account(gym["account"]):
        portal_on(allow_pay_later=True, drop_notice_days=14, drop_on_month_start=True)
        family = make_family()
        enrolled = enrollment.enroll(
            student=Student.objects.get(family=family), klass=gym["klass"], start_date=FIRST_TUESDAY
        )
    guardian_login(client, gym["account"], family)
    soon = _today() + timedelta(days=1)
    response = client.post(
        "/alpha/portal/family/requests/drop/",
        {"enrollment": enrolled.pk, "effective_date": soon.isoformat()},
    )
    assert response.status_code == 400 and "earliest date" in response.content.decode()
    response = client.post(
        "/alpha/portal/family/requests/drop/",
        {"enrollment": enrolled.pk, "effective_date": "2027-02-01", "message": "Moving away"},
    )
    assert response.status_code == 302
    with activate_account(gym["account"]):
        made = EnrollmentRequest.objects.get()
        assert (made.kind, made.status, made.effective_date) == (
            "drop",
            "pending",
            date(2027, 2, 1),
        )
        enrollment.request_decide(request=made, approve=True)
    page = client.get("/alpha/portal/family/requests/").content.decode()
    assert "Approved" in page


def test_inviting_a_second_guardian_emails_their_own_login(
    client, gym, mailoutbox, django_capture_on_commit_callbacks
):
    with activate_account(gym["account"]):
        family = make_family()
    guardian_login(client, gym["account"], family)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/alpha/portal/family/guardians/",
            {"first_name": "Jose", "last_name": "Garcia", "email": "jose@garcia.example"},
        )
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["jose@garcia.example"]
    assert "/alpha/portal/password/" in mailoutbox[-1].body
    taken = client.post(
        "/alpha/portal/family/guardians/",
        {"first_name": "Dup", "last_name": "Garcia", "email": "maria@garcia.example"},
    )
    assert (
        taken.status_code == 400 and "already has a parent portal login" in taken.content.decode()
    )


# --- the office's settings page -----------------------------------------------------------


def test_office_settings_page_changes_the_mode_and_branding(client, account_a, alice, bob):
    from django.core.files.uploadedfile import SimpleUploadedFile

    office_login(client, account_a, "bob")
    assert client.get("/alpha/office/portal/").status_code == 403
    office_login(client, account_a, "alice")
    assert client.get("/alpha/office/portal/").status_code == 200
    logo = SimpleUploadedFile(
        "logo.png", b"\x89PNG\r\n\x1a\n" + b"1" * 50, content_type="image/png"
    )
    response = client.post(
        "/alpha/office/portal/",
        {
            "mode": "active",
            "allow_pay_later": "on",
            "welcome_text": "Welcome, gymnasts!",
            "primary_color": "#1e5fa8",
            "accent_color": "#ffffff",
            "drop_notice_days": "7",
            "logo": logo,
        },
    )
    assert response.status_code == 302
    with activate_account(account_a):
        saved = PortalSettings.objects.get()
    assert (
        saved.mode == "active" and saved.allow_pay_later and saved.logo_content_type == "image/png"
    )
    assert client.get("/alpha/portal/logo/")["Content-Type"] == "image/png"
    assert "Welcome, gymnasts!" in client.get("/alpha/portal/").content.decode()
    response = client.post(
        "/alpha/office/portal/",
        {
            "mode": "active",
            "primary_color": "#ffff00",
            "accent_color": "#ffffff",
            "drop_notice_days": "0",
        },
    )
    assert response.status_code == 400 and "contrast" in response.content.decode()


def test_the_level_told_in_the_finder_comes_with_the_new_student(client, gym):
    from tests.portal.helpers import level

    with activate_account(gym["account"]):
        beginner = level("Beginner", 1)
        klass = make_class("Beginner Tumbling", required_level=beginner, weekdays=(4,))
    response = _add(client, klass)
    assert response.status_code == 400 and "needs Beginner" in response.content.decode()
    assert _add(client, klass, level=beginner.pk).status_code == 302
    form = client.get("/alpha/portal/checkout/sign-up/").content.decode()
    assert f'<option value="{beginner.pk}" selected>' in form
    data = {**SIGNUP, "students-0-level": str(beginner.pk)}
    assert client.post("/alpha/portal/checkout/sign-up/", data).status_code == 302
    client.get("/alpha/portal/checkout/")
    (hold,) = _holds(gym["account"])
    assert hold.student.first_name == "Lucia" and hold.student.level_id == beginner.pk


class _Labels(HTMLParser):
    """Form controls of a page and the ids its labels point at."""

    def __init__(self):
        super().__init__()
        self.controls, self.labelled, self.depth = [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.depth += 1
            if attrs.get("for"):
                self.labelled.add(attrs["for"])
        control = tag in ("input", "select", "textarea") and attrs.get("type") != "hidden"
        named = self.depth or attrs.get("aria-label") or attrs.get("aria-labelledby")
        if control and not named:
            self.controls.append(attrs.get("id") or attrs.get("name"))

    def handle_endtag(self, tag):
        if tag == "label":
            self.depth -= 1


def _unlabelled(html: str) -> list[str]:
    parser = _Labels()
    parser.feed(html)
    return [c for c in parser.controls if c not in parser.labelled]


def test_every_form_control_has_a_label(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
        camp = make_camp()
    pages = [
        "/alpha/portal/find/",
        f"/alpha/portal/find/?dob={ANA_DOB}",
        f"/alpha/portal/find/?dob={ANA_DOB}&program=any",
        "/alpha/portal/classes/",
        "/alpha/portal/calendar/",
        f"/alpha/portal/classes/{gym['klass'].pk}/",
        f"/alpha/portal/camps/{camp.pk}/",
        "/alpha/portal/checkout/sign-up/",
    ]
    for path in pages:
        assert _unlabelled(client.get(path).content.decode()) == [], path
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    for path in ["/alpha/portal/checkout/", *(f"/alpha/portal/{p}" for p in FAMILY_PAGES)]:
        assert _unlabelled(client.get(path).content.decode()) == [], path


def test_paying_a_balance_and_managing_cards(client, gym, gateway, sandbox_url):
    from classbook.ledger import services as ledger
    from classbook.payments import services as payments
    from tests.payments.conftest import card

    with activate_account(gym["account"]):
        family = make_family()
        ledger.charge_post(
            family=family, charge_type="tuition", amount_cents=4500, description="Dec"
        )
        saved = payments.card_save(family=family, payment_method_id=card(sandbox_url))
    guardian_login(client, gym["account"], family)
    page = client.get("/alpha/portal/family/account/pay/").content.decode()
    token = re.search(r'name="request_token" value="([^"]+)"', page).group(1)
    too_much = client.post(
        "/alpha/portal/family/account/pay/",
        {"amount": "99.00", "method": f"card:{saved.pk}", "request_token": token},
    )
    assert too_much.status_code == 400 and "at most $45.00" in too_much.content.decode()
    response = client.post(
        "/alpha/portal/family/account/pay/",
        {"amount": "45.00", "method": f"card:{saved.pk}", "request_token": token},
    )
    assert response.status_code == 302 and "/family/receipts/" in response["Location"]
    assert "Receipt #" in client.get(response["Location"]).content.decode()
    with activate_account(gym["account"]):
        attempt = PaymentAttempt.objects.get(family=family)
        assert attempt.purpose == "charges" and attempt.status == "succeeded"
    assert str(saved) in client.get("/alpha/portal/family/cards/").content.decode()
    assert client.post(f"/alpha/portal/family/cards/{saved.pk}/remove/").status_code == 302
    with activate_account(gym["account"]):
        saved.refresh_from_db()
        assert saved.removed_at is not None


def test_claiming_a_waitlist_offer_from_the_family_page(client, gym):
    with activate_account(gym["account"]):
        family = make_family()
        ana = Student.objects.get(family=family)
        other = make_family(
            "Lee",
            login=False,
            children=[("A", date(2019, 1, 1), "female"), ("B", date(2019, 2, 2), "male")],
        )
        seated = [
            enrollment.enroll(student=kid, klass=gym["klass"], start_date=FIRST_TUESDAY)
            for kid in Student.objects.filter(family=other)
        ]
        entry = enrollment.waitlist_join(student=ana, klass=gym["klass"], start_date=FIRST_TUESDAY)
        enrollment.drop(enrollment=seated[0], effective_date=FIRST_TUESDAY, reason="Moved")
        enrollment.waitlist_offer_seats(klass=gym["klass"])
    guardian_login(client, gym["account"], family)
    page = client.get("/alpha/portal/family/").content.decode()
    assert "A seat opened for Ana" in page and "Claim the seat" in page
    assert client.post(f"/alpha/portal/family/offers/{entry.pk}/claim/").status_code == 302
    with activate_account(gym["account"]):
        assert Enrollment.objects.get(student=ana).status == "active"


def test_a_cart_being_paid_takes_no_new_seats_and_keeps_its_holds(client, gym):
    from classbook.portal import services as portal

    with activate_account(gym["account"]):
        family = make_family()
        other_class = make_class("Level 1 Flips", weekdays=(3,))
    guardian_login(client, gym["account"], family)
    _add(client, gym["klass"])
    (hold,) = _holds(gym["account"])
    with activate_account(gym["account"]):
        portal.checkout_begin(cart=hold.cart, family=family, amount_cents=MONTHLY_CENTS, lines=[])
    client.post(f"/alpha/portal/cart/{hold.pk}/remove/")
    assert len(_holds(gym["account"])) == 1  # not while the payment is being confirmed
    _add(client, other_class)
    carts = {h.cart for h in _holds(gym["account"])}
    assert len(carts) == 2  # the new seat went into a fresh cart
