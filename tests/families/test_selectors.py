"""Family search: by family name, guardian names, emails, phones (any format), students."""

from datetime import date

import pytest

from classbook.families import services as svc
from classbook.families.search import parse_query
from classbook.families.selectors import family_search, possible_duplicates
from tests.families.conftest import create_family, guardian_details, student_details


@pytest.fixture
def families(in_a):
    garcia = create_family(
        guardian=guardian_details(
            first_name="María José", email="mj.garcia@example.com", mobile_phone="+1 (512) 555-0142"
        ),
        students=[student_details(first_name="Ana")],
    )
    svc.guardian_add(
        family=garcia,
        details=guardian_details(
            first_name="Tomás",
            email="tomas@work.example",
            mobile_phone="",
            work_phone="737-555-8800 ext. 4",
        ),
    )
    smith = create_family(
        name="Smith",
        guardian=guardian_details(
            first_name="John",
            last_name="Smith",
            email="jsmith@example.org",
            mobile_phone="512 555 7000",
        ),
        students=[student_details(first_name="Margaret", last_name="Smith")],
    )
    okafor = create_family(
        name="Okafor",
        guardian=guardian_details(
            first_name="Chidi",
            last_name="Okafor",
            email="chidi@example.net",
            mobile_phone="(210) 555-1234",
        ),
        students=[
            student_details(
                first_name="Garcia-Lee", last_name="Okafor", date_of_birth=date(2015, 6, 1)
            )
        ],
    )
    return {"garcia": garcia, "smith": smith, "okafor": okafor}


def names(query):
    return [f.name for f in family_search(query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Garcia", "Okafor", "Smith"]),
        ("smi", ["Smith"]),
        ("SMITH", ["Smith"]),
        ("john", ["Smith"]),
        ("maria", ["Garcia"]),  # accents ignored: María
        ("maría", ["Garcia"]),
        ("tomas", ["Garcia"]),
        ("mj.garcia@", ["Garcia"]),
        ("example.org", ["Smith"]),
        ("@work.example", ["Garcia"]),
        ("margaret", ["Smith"]),
        ("ana garcia", ["Garcia"]),  # every word must match
        ("john garcia", []),
        ("chidi okafor", ["Okafor"]),
        ("nobody", []),
        ("s", ["Smith"]),  # one letter: family names starting with it
    ],
)
def test_search_by_each_field(families, query, expected):
    assert names(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "(512) 555-0142",
        "512-555-0142",
        "512.555.0142",
        "5125550142",
        "+1 512 555 0142",
        "15125550142",
        "555-0142",
        "0142",
    ],
)
def test_search_by_phone_in_any_format(families, query):
    assert names(query) == ["Garcia"]


def test_search_by_work_phone_without_its_extension(families):
    assert names("737 555 8800") == ["Garcia"]


def test_family_name_prefix_ranks_first(families):
    # "garcia" is the Garcia family's name and part of an Okafor student's name.
    assert names("garcia") == ["Garcia", "Okafor"]


def test_search_ignores_merged_families(families):
    svc.family_merge(keep=families["smith"], merge=families["okafor"])
    assert names("chidi") == ["Smith"]
    assert "Okafor" not in names("")


def test_search_is_scoped_to_the_account(families, account_b):
    from classbook.core.tenancy import activate_account

    with activate_account(account_b):
        create_family(name="Smith", guardian=guardian_details(last_name="Smith"))
        assert names("smith") == ["Smith"]
        assert len(family_search("smith")) == 1
    assert len(family_search("smith")) == 1


def test_search_results_carry_active_guardians_and_students(families):
    garcia = family_search("garcia")[0]
    assert [g.first_name for g in garcia.active_guardians] == ["María José", "Tomás"]
    assert [s.first_name for s in garcia.active_students] == ["Ana"]


def test_parse_query():
    assert parse_query("  ").is_empty
    assert parse_query("(512) 555").digits == "512555"
    assert parse_query("12").words == ("12",)  # too few digits for a phone search
    assert parse_query("Ana, Garcia").words == ("ana", "garcia")
    assert parse_query("g").prefix_only
    assert parse_query("+1 512 555 0142").digit_variants() == ["15125550142", "5125550142"]


def test_possible_duplicates(families):
    garcia = families["garcia"]
    assert possible_duplicates(names=["garcia"], email="MJ.Garcia@example.com") == [garcia]
    assert possible_duplicates(names=["Garcia"], phones=["737 555 8800"]) == [garcia]
    assert possible_duplicates(names=["Smith"], email="mj.garcia@example.com") == []
    assert possible_duplicates(names=["Garcia"]) == []
    assert (
        possible_duplicates(
            names=["Garcia"], email="mj.garcia@example.com", exclude_family_id=garcia.pk
        )
        == []
    )
