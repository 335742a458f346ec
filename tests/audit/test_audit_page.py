"""The audit log page: filters, keyset pagination, a constant query count, object histories."""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.accounts.models import User
from classbook.accounts.services import location_save, operator_create
from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.staff.models import PermissionGrant
from tests.conftest import make_staff, office_login

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def add_entry(account, *, action="location.updated", actor=None, when=None, obj=None, **extra):
    """An entry as log_action would write it, at a chosen time."""
    with activate_account(account):
        fields = {
            "actor_kind": actor.kind if actor else "system",
            "actor": actor,
            "actor_label": str(actor) if actor else "Classbook (automatic)",
            "action": action,
            "created_at": when or T0,
            **extra,
        }
        if obj is not None:
            fields.update(
                object_type=obj._meta.label_lower, object_id=str(obj.pk), object_label=str(obj)
            )
        return LogEntry.objects.create(**fields)


def audit_url(account) -> str:
    return f"/{account.slug}/office/audit/"


def shown(response) -> list[LogEntry]:
    return response.context["page"].entries


def shown_ids(response) -> list[int]:
    return [e.pk for e in shown(response)]


@pytest.fixture
def owner_client(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


# --- filters -----------------------------------------------------------------------------


def test_page_lists_this_accounts_entries_newest_first(owner_client, account_a, account_b):
    older = add_entry(account_a, when=T0, object_label="older")
    newer = add_entry(account_a, when=T0 + timedelta(minutes=5), object_label="newer")
    theirs = add_entry(account_b, when=T0 + timedelta(minutes=9), object_label="theirs")
    ids = shown_ids(owner_client.get(audit_url(account_a)))
    assert ids.index(newer.pk) < ids.index(older.pk)
    assert theirs.pk not in ids
    with activate_account(account_a):
        assert set(ids) == set(LogEntry.objects.values_list("pk", flat=True))


def test_filter_by_person(owner_client, account_a, alice, bob):
    mine = add_entry(account_a, actor=alice)
    bobs = add_entry(account_a, actor=bob)
    response = owner_client.get(audit_url(account_a), {"person": bob.pk})
    assert shown_ids(response) == [bobs.pk]
    response = owner_client.get(audit_url(account_a), {"person": alice.pk})
    assert mine.pk in shown_ids(response)
    assert all(e.actor_id == alice.pk for e in shown(response))


def test_filter_by_action_code(owner_client, account_a, alice):
    wanted = add_entry(account_a, action="staff.updated", actor=alice)
    add_entry(account_a, action="staff.deactivated", actor=alice)
    response = owner_client.get(audit_url(account_a), {"action": "staff.updated"})
    assert shown_ids(response) == [wanted.pk]


def test_filter_by_area_prefix(owner_client, account_a, alice):
    add_entry(account_a, action="staff.updated")
    add_entry(account_a, action="staff.deactivated")
    add_entry(account_a, action="location.updated")
    add_entry(account_a, action="auth.logged_in")
    response = owner_client.get(audit_url(account_a), {"action": "staff."})
    actions = {e.action for e in shown(response)}
    assert actions >= {"staff.updated", "staff.deactivated", "staff.created"}
    assert all(a.startswith("staff.") for a in actions)
    with activate_account(account_a):
        assert len(shown(response)) == LogEntry.objects.filter(action__startswith="staff.").count()


def test_an_area_without_the_dot_is_an_exact_code(owner_client, account_a):
    add_entry(account_a, action="staff.updated")
    assert shown_ids(owner_client.get(audit_url(account_a), {"action": "staff"})) == []


def test_action_filter_options_name_the_areas(owner_client, account_a):
    html_text = owner_client.get(audit_url(account_a)).content.decode()
    assert '<option value="staff.">All staff actions</option>' in html_text
    assert "Classbook support entered the office (support.visit_started)" in html_text


def test_filter_by_date_range_uses_the_accounts_timezone(owner_client, account_a):
    assert account_a.timezone == "America/Chicago"  # UTC-6 in January
    late_14th = add_entry(account_a, when=datetime(2025, 1, 15, 5, 30, tzinfo=UTC))  # 23:30 on 14th
    early_15th = add_entry(account_a, when=datetime(2025, 1, 15, 6, 30, tzinfo=UTC))  # 00:30
    late_15th = add_entry(account_a, when=datetime(2025, 1, 16, 5, 59, tzinfo=UTC))  # 23:59
    on_16th = add_entry(account_a, when=datetime(2025, 1, 16, 6, 0, tzinfo=UTC))  # 00:00 16th
    day = {"from": "2025-01-15", "to": "2025-01-15"}
    assert shown_ids(owner_client.get(audit_url(account_a), day)) == [late_15th.pk, early_15th.pk]
    before = {"from": "2025-01-01", "to": "2025-01-14"}
    assert shown_ids(owner_client.get(audit_url(account_a), before)) == [late_14th.pk]
    after = {"from": "2025-01-16", "to": "2025-01-16"}
    assert shown_ids(owner_client.get(audit_url(account_a), after)) == [on_16th.pk]


def test_open_ended_date_ranges(owner_client, account_a):
    old = add_entry(account_a, when=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    response = owner_client.get(audit_url(account_a), {"to": "2024-12-31"})
    assert shown_ids(response) == [old.pk]
    response = owner_client.get(audit_url(account_a), {"from": "2025-01-01"})
    assert old.pk not in shown_ids(response)


@pytest.mark.parametrize("bad", ["yesterday", "2025-13-01", "2025-02-30", "15/01/2025"])
def test_an_invalid_date_shows_a_message_not_an_error(owner_client, account_a, bad):
    entry = add_entry(account_a)
    response = owner_client.get(audit_url(account_a), {"from": bad})
    assert response.status_code == 200
    assert f"“{bad}” is not a date (use YYYY-MM-DD)." in html.unescape(response.content.decode())
    assert entry.pk in shown_ids(response)  # the bad filter is ignored, not applied


def test_filters_combine(owner_client, account_a, alice, bob):
    hit = add_entry(
        account_a, action="staff.updated", actor=bob, when=datetime(2025, 1, 15, 18, 0, tzinfo=UTC)
    )
    add_entry(
        account_a,
        action="staff.updated",
        actor=alice,
        when=datetime(2025, 1, 15, 18, 0, tzinfo=UTC),
    )
    add_entry(
        account_a,
        action="location.updated",
        actor=bob,
        when=datetime(2025, 1, 15, 18, 0, tzinfo=UTC),
    )
    add_entry(
        account_a, action="staff.updated", actor=bob, when=datetime(2025, 2, 15, 18, 0, tzinfo=UTC)
    )
    response = owner_client.get(
        audit_url(account_a),
        {"person": bob.pk, "action": "staff.", "from": "2025-01-01", "to": "2025-01-31"},
    )
    assert shown_ids(response) == [hit.pk]


def test_full_history_link_filters_by_object(owner_client, account_a, alice, bob):
    owner_client.post(f"/{account_a.slug}/office/staff/{bob.pk}/deactivate/")
    add_entry(account_a, action="staff.updated", obj=alice)
    detail = owner_client.get(f"/{account_a.slug}/office/staff/{bob.pk}/").content.decode()
    link = html.unescape(re.search(r'href="([^"]+)">Full history<', detail).group(1))
    query = parse_qs(urlsplit(link).query)
    assert query == {"object_type": ["accounts.user"], "object_id": [str(bob.pk)]}
    response = owner_client.get(link)
    entries = shown(response)
    assert {e.action for e in entries} == {"staff.created", "staff.deactivated"}
    assert all(e.object_id == str(bob.pk) and e.object_type == "accounts.user" for e in entries)
    assert "Showing the history of one accounts.user" in response.content.decode()


def test_support_entries_name_the_operator(owner_client, account_a, alice):
    operator = operator_create(username="opal", email="o@x.example", password="Operator-Pass-2024")
    add_entry(account_a, actor=alice, impersonator=operator, impersonator_label="opal")
    text = owner_client.get(audit_url(account_a)).content.decode()
    assert "Classbook support: opal" in text


def test_masked_values_show_as_dots(owner_client, account_a, alice):
    owner_client.post(
        f"/{account_a.slug}/office/password/",
        {
            "old_password": "Correct-Horse-42",
            "new_password1": "Brand-New-Sunrise-81",
            "new_password2": "Brand-New-Sunrise-81",
        },
    )
    text = owner_client.get(audit_url(account_a), {"action": "staff.password_changed"})
    content = text.content.decode()
    assert "••••••" in content
    assert "Brand-New-Sunrise-81" not in content


# --- keyset pagination ------------------------------------------------------------------------


def _older_link(response) -> str | None:
    match = re.search(r'href="(\?[^"]*after=[^"]*)">Older<', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def test_older_link_walks_every_entry_once(owner_client, account_a, alice, bob):
    # Seven entries share each timestamp, so the cursor must break ties by id.
    for n in range(120):
        add_entry(account_a, actor=(alice, bob)[n % 2], when=T0 + timedelta(seconds=n // 7))
    with activate_account(account_a):
        expected = list(
            LogEntry.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
        )
    assert len(expected) >= 120
    walked, sizes = [], []
    response = owner_client.get(audit_url(account_a))
    assert "Newest" not in response.content.decode()
    while True:
        sizes.append(len(shown(response)))
        walked.extend(shown_ids(response))
        link = _older_link(response)
        if link is None:
            break
        response = owner_client.get(audit_url(account_a) + link)
        assert response.status_code == 200
        assert ">Newest<" in response.content.decode()
    assert walked == expected  # no duplicates, no gaps, newest first
    assert sizes[:-1] == [50] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= 50


def test_older_link_keeps_the_filters(owner_client, account_a, alice, bob):
    for n in range(60):
        add_entry(account_a, actor=alice, action="staff.updated", when=T0 + timedelta(seconds=n))
        add_entry(account_a, actor=bob, action="staff.updated", when=T0 + timedelta(seconds=n))
    first = owner_client.get(audit_url(account_a), {"person": bob.pk})
    link = _older_link(first)
    assert f"person={bob.pk}" in link
    second = owner_client.get(audit_url(account_a) + link)
    walked = shown_ids(first) + shown_ids(second)
    assert len(walked) == len(set(walked))
    with activate_account(account_a):
        assert len(walked) == LogEntry.objects.filter(actor=bob).count()
    assert all(e.actor_id == bob.pk for e in shown(second))


def test_exactly_one_page_has_no_older_link(owner_client, account_a):
    with activate_account(account_a):
        existing = LogEntry.objects.count()
    for n in range(50 - existing):
        add_entry(account_a, when=T0 + timedelta(seconds=n))
    response = owner_client.get(audit_url(account_a))
    assert len(shown(response)) == 50
    assert _older_link(response) is None


@pytest.mark.parametrize("cursor", ["garbage", "2025-01-01_x", "_", "2025-01-01T00:00:00+00:00"])
def test_a_garbled_cursor_starts_from_the_newest(owner_client, account_a, cursor):
    entry = add_entry(account_a, when=T0 + timedelta(days=3650))
    response = owner_client.get(audit_url(account_a), {"after": cursor})
    assert response.status_code == 200
    assert shown_ids(response)[0] == entry.pk


# --- speed -------------------------------------------------------------------------------------


def _fill(account, people, operator, count):
    for n in range(count):
        add_entry(
            account,
            actor=people[n % len(people)],
            impersonator=operator if n % 3 == 0 else None,
            impersonator_label="opal" if n % 3 == 0 else "",
            action=("staff.updated", "location.updated", "auth.logged_in")[n % 3],
            when=T0 + timedelta(seconds=n),
            changes={"name": [f"old {n}", f"new {n}"]},
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_entries(
    owner_client, account_a, alice, bob, django_assert_max_num_queries
):
    operator = operator_create(username="opal", email="o@x.example", password="Operator-Pass-2024")
    with activate_account(account_a):
        people = list(User.objects.filter(pk__in=[alice.pk, bob.pk]))
    _fill(account_a, people, operator, 10)
    small = _queries(owner_client, audit_url(account_a))
    _fill(account_a, people, operator, 190)
    large = _queries(owner_client, audit_url(account_a))
    assert large == small
    with django_assert_max_num_queries(small):
        owner_client.get(audit_url(account_a), {"action": "staff.", "person": alice.pk})


# --- histories on object pages -------------------------------------------------------------


def test_staff_detail_shows_that_persons_history_only(owner_client, account_a, alice, bob):
    owner_client.post(f"/{account_a.slug}/office/staff/{bob.pk}/deactivate/")
    add_entry(account_a, action="staff.updated", obj=alice, object_label="alice-only marker")
    response = owner_client.get(f"/{account_a.slug}/office/staff/{bob.pk}/")
    history = response.context["history"]
    assert {e.action for e in history} == {"staff.created", "staff.deactivated"}
    text = response.content.decode()
    assert "Staff login deactivated" in text
    assert "Staff login created" in text


def test_full_history_link_needs_the_audit_permission(client, account_a, alice, bob):
    mia = make_staff(account_a, "mia", groups=("Front Desk",), permission_codes=["staff.manage"])
    office_login(client, account_a, "mia")
    response = client.get(f"/{account_a.slug}/office/staff/{bob.pk}/")
    assert response.status_code == 200
    assert response.context["history"]  # the history itself is part of the staff page
    assert "Full history" not in response.content.decode()
    with activate_account(account_a):
        PermissionGrant.objects.create(user=mia, permission="audit.view")
    response = client.get(f"/{account_a.slug}/office/staff/{bob.pk}/")
    assert "Full history" in response.content.decode()


def test_location_detail_shows_its_history(owner_client, account_a, location_a):
    with activate_account(account_a):
        location_save(location=location_a, phone="(512) 555-0142")
    response = owner_client.get(f"/{account_a.slug}/office/settings/locations/{location_a.pk}/")
    assert {e.action for e in response.context["history"]} == {
        "location.created",
        "location.updated",
    }
    text = response.content.decode()
    assert "Location changed" in text
    assert "Full history" in text


def test_location_history_is_passed_to_the_page(owner_client, account_a, location_a, bob):
    with activate_account(account_a):
        location_save(location=location_a, phone="(512) 555-0142")
    add_entry(account_a, action="staff.updated", obj=bob)
    response = owner_client.get(f"/{account_a.slug}/office/settings/locations/{location_a.pk}/")
    history = response.context["history"]
    assert [e.action for e in history] == ["location.updated", "location.created"]
    assert all(e.object_id == str(location_a.pk) for e in history)
