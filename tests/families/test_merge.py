"""Merging two families: everything moves, one audit entry, the merged family points on."""

from datetime import date

import pytest

from classbook.audit.models import LogEntry
from classbook.core.errors import ValidationFailed
from classbook.families import merge as merge_module
from classbook.families import services as svc
from classbook.families.models import (
    EmergencyContact,
    Family,
    FamilyTag,
    Guardian,
    PolicyAcceptance,
    StaffNote,
    Student,
)
from tests.families.conftest import create_family, guardian_details, student_details


@pytest.fixture
def pair(in_a, alice):
    keep = create_family(name="Garcia")
    dup = create_family(
        name="Garcia",
        guardian=guardian_details(
            first_name="Jose", email="jose@example.com", mobile_phone="737 555 0101"
        ),
        students=[student_details(first_name="Leo", date_of_birth=date(2019, 1, 5))],
    )
    svc.guardian_add(
        family=dup, details=guardian_details(first_name="Lucia", email="lu@example.com")
    )
    svc.contact_add(family=dup, name="Abuela Rosa", phone="512 555 2222")
    svc.note_add(family=dup, author=alice, body="Duplicate created at the desk.")
    svc.family_set_tags(family=keep, names=["VIP"])
    svc.family_set_tags(family=dup, names=["VIP", "Scholarship"])
    version = svc.policy_publish(name="Waiver", text="Careful.")
    svc.policy_acceptance_record(
        guardian=dup.guardians.get(first_name="Jose"), policy_version=version
    )
    return keep, dup


def test_everything_moves_and_the_merged_family_points_to_the_kept_one(pair):
    keep, dup = pair
    svc.family_merge(keep=keep, merge=dup)
    dup.refresh_from_db()
    assert dup.merged_into == keep and dup.merged_at is not None
    assert dup.search_text == ""
    for model in (Guardian, Student, EmergencyContact, StaffNote, FamilyTag, PolicyAcceptance):
        assert not model.objects.filter(family=dup).exists(), model
    assert sorted(keep.guardians.values_list("first_name", flat=True)) == ["Jose", "Lucia", "Maria"]
    assert sorted(keep.students.values_list("first_name", flat=True)) == ["Ana", "Leo"]
    assert keep.emergency_contacts.count() == 1
    assert keep.staff_notes.count() == 1
    assert sorted(keep.tags.values_list("name", flat=True)) == ["Scholarship", "VIP"]
    assert PolicyAcceptance.objects.get().family == keep
    # Still exactly one primary guardian: the kept family's.
    assert list(
        Guardian.objects.filter(family=keep, is_primary=True).values_list("first_name", flat=True)
    ) == ["Maria"]
    keep.refresh_from_db()
    assert "jose@example.com" in keep.search_text and "leo" in keep.search_text


def test_merge_writes_one_audit_entry_on_the_kept_family(pair):
    keep, dup = pair
    before = LogEntry.objects.count()
    svc.family_merge(keep=keep, merge=dup)
    assert LogEntry.objects.count() == before + 1
    entry = LogEntry.objects.order_by("-id").first()
    assert entry.action == "family.merged"
    assert entry.object_id == str(keep.pk)
    assert entry.changes["merged_family"] == [None, f"Garcia (#{dup.pk})"]
    assert entry.changes["students"] == [None, ["Leo Garcia"]]
    assert entry.changes["guardians"] == [None, ["Jose Garcia", "Lucia Garcia"]]
    assert entry.changes["tags"] == [None, ["Scholarship"]]
    assert entry.changes["staff_notes"] == [None, ["1 staff note"]]


def test_preview_lists_what_will_move_without_moving_it(pair):
    keep, dup = pair
    preview = {hook.name: items for hook, items in merge_module.merge_preview(keep, dup)}
    assert preview["students"] == ["Leo Garcia"]
    assert preview["emergency_contacts"] == ["Abuela Rosa"]
    assert preview["tags"] == ["Scholarship"]
    assert Student.objects.filter(family=dup).count() == 1


@pytest.mark.parametrize("case", ["same", "already-merged"])
def test_merge_refusals(pair, case):
    keep, dup = pair
    if case == "same":
        with pytest.raises(ValidationFailed):
            svc.family_merge(keep=keep, merge=keep)
    else:
        svc.family_merge(keep=keep, merge=dup)
        third = create_family(
            name="Other", guardian=guardian_details(last_name="Other", email="o@example.com")
        )
        with pytest.raises(ValidationFailed, match="already merged"):
            svc.family_merge(keep=third, merge=dup)
        with pytest.raises(ValidationFailed, match="already merged"):
            svc.family_merge(keep=dup, merge=third)


def test_a_failing_hook_undoes_the_whole_merge(pair, monkeypatch):
    keep, dup = pair

    def refuse(keep, merge):
        raise ValidationFailed("The ledger cannot move yet.")

    monkeypatch.setitem(
        merge_module._HOOKS,
        "zz_refuse",
        merge_module.MergeHook(
            name="zz_refuse", label="Refuse", preview=lambda k, m: [], apply=refuse, order=999
        ),
    )
    with pytest.raises(ValidationFailed, match="ledger"):
        svc.family_merge(keep=keep, merge=dup)
    assert Student.objects.filter(family=dup).count() == 1
    assert Family.objects.get(pk=dup.pk).merged_into is None
    assert not LogEntry.objects.filter(action="family.merged").exists()


def test_another_app_can_register_a_hook_whose_result_is_audited(pair, monkeypatch):
    keep, dup = pair
    moved = []
    monkeypatch.setattr(merge_module, "_HOOKS", dict(merge_module._HOOKS))
    merge_module.register_merge_hook(
        "ledger",
        label="Ledger",
        order=200,
        preview=lambda k, m: ["2 entries"],
        apply=lambda k, m: moved.append((k.pk, m.pk)) or ["2 entries"],
    )
    with pytest.raises(ValueError):
        merge_module.register_merge_hook("ledger", label="x", preview=list, apply=list)
    svc.family_merge(keep=keep, merge=dup)
    assert moved == [(keep.pk, dup.pk)]
    assert LogEntry.objects.get(action="family.merged").changes["ledger"] == [None, ["2 entries"]]
    assert [h.name for h in merge_module.merge_hooks()][-1] == "ledger"
