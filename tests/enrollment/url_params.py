"""How the access matrix fills the enrollment pages' URL parameters with account A's rows.

Everything is made through the real services and remembered in the context, so one URL
gets a class with meetings, an enrollment in it, a waitlist place, a request, a makeup, a
trial visit and a camp booking that belong together. ``class_id``, ``camp_id`` and
``student_id`` are shared with the catalog's and the families' pages: any class, camp or
student of account A serves them all.
"""

from classbook.core.tenancy import activate_account


def _remember(name, make):
    def maker(ctx):
        key = f"enrollment_{name}"
        if key not in ctx:
            with activate_account(ctx["account"]):
                ctx[key] = make(ctx)
        return ctx[key]

    return maker


def _class(ctx):
    from tests.enrollment.helpers import make_class

    return make_class(name="Matrix class", capacity=4)


def _student(ctx):
    from tests.enrollment.helpers import make_student

    return make_student("Matrix")


def _camp(ctx):
    from tests.enrollment.helpers import make_camp

    return make_camp(day_capacity=5)


def _camp_day(ctx):
    from tests.enrollment.helpers import camp_days

    return camp_days(camp(ctx))[0]


def _enrollment(ctx):
    from classbook.enrollment import services
    from tests.enrollment.helpers import TERM_START

    return services.enroll(student=student(ctx), klass=klass(ctx), start_date=TERM_START)


def _entry(ctx):
    from classbook.enrollment import services
    from tests.enrollment.helpers import TERM_START, make_student

    return services.waitlist_join(
        student=make_student("Waiting"), klass=klass(ctx), start_date=TERM_START
    )


def _request(ctx):
    from datetime import date

    from classbook.enrollment import services

    enrollment = enrollment_(ctx)
    return services.request_create(
        kind="drop",
        student=enrollment.student,
        enrollment=enrollment,
        effective_date=date(2027, 2, 1),
        message="Moving away",
    )


def _makeup(ctx):
    from classbook.enrollment import services
    from tests.enrollment.helpers import TERM_END

    return services.makeup_issue(student=student(ctx), reason="Missed a class", expires_on=TERM_END)


def _visit(ctx):
    from classbook.catalog.models import Meeting
    from classbook.enrollment import services
    from tests.enrollment.helpers import make_student

    meeting = Meeting.objects.filter(klass=klass(ctx)).order_by("date").first()
    return services.trial_book(student=make_student("Trial"), meeting=meeting)


def _booking(ctx):
    from classbook.catalog.models import CampOption
    from classbook.enrollment import services

    option = CampOption.objects.get(camp=camp(ctx))
    return services.camp_book(
        student=student(ctx), camp=camp(ctx), option=option, days=[camp_day(ctx)]
    )[0]


klass = _remember("class", _class)
student = _remember("student", _student)
camp = _remember("camp", _camp)
camp_day = _remember("camp_day", _camp_day)
enrollment_ = _remember("enrollment", _enrollment)
entry = _remember("entry", _entry)
request = _remember("request", _request)
makeup = _remember("makeup", _makeup)
visit = _remember("visit", _visit)
booking = _remember("booking", _booking)

PARAMS = {
    "class_id": lambda ctx: klass(ctx).pk,
    "student_id": lambda ctx: student(ctx).pk,
    "camp_id": lambda ctx: camp(ctx).pk,
    "camp_day_id": lambda ctx: camp_day(ctx).pk,
    "enrollment_id": lambda ctx: enrollment_(ctx).pk,
    "waitlist_entry_id": lambda ctx: entry(ctx).pk,
    "request_id": lambda ctx: request(ctx).pk,
    "makeup_id": lambda ctx: makeup(ctx).pk,
    "visit_id": lambda ctx: visit(ctx).pk,
    "booking_id": lambda ctx: booking(ctx).pk,
}
