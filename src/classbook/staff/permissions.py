"""The fixed catalogue of named permissions, one per capability.

Every office page, htmx endpoint and API endpoint declares one of these (see
``classbook.staff.access.office_view``). Apps add theirs by calling ``register`` at import
time of their ``permissions`` module; the codes are stored in the database as strings, so
renaming one needs a data migration.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Permission:
    code: str
    label: str
    area: str

    def __str__(self) -> str:
        return self.label


CATALOGUE: dict[str, Permission] = {}


def register(code: str, label: str, area: str) -> Permission:
    if code in CATALOGUE:
        raise ValueError(f"permission {code!r} registered twice")
    CATALOGUE[code] = Permission(code=code, label=label, area=area)
    return CATALOGUE[code]


def by_area() -> list[tuple[str, list[Permission]]]:
    areas: dict[str, list[Permission]] = {}
    for perm in CATALOGUE.values():
        areas.setdefault(perm.area, []).append(perm)
    return list(areas.items())


VIEW_DASHBOARD = register("office.dashboard", "Open the office dashboard", "Office")
VIEW_FAMILIES = register("families.view", "View families", "Families")
EDIT_FAMILIES = register("families.edit", "Edit families", "Families")
VIEW_LEDGER = register("ledger.view", "View ledger", "Money")
TAKE_PAYMENTS = register("payments.take", "Take payments", "Money")
REFUND_PAYMENTS = register("payments.refund", "Refund and void payments", "Money")
POST_CHARGES = register("ledger.post", "Post charges and credits", "Money")
RUN_BILLING = register("billing.run", "Run billing", "Money")
EDIT_CATALOG = register("catalog.edit", "Edit classes and camps", "Classes")
VIEW_CATALOG = register("catalog.view", "View classes, camps and rosters", "Classes")
ENROLL = register("enrollment.manage", "Enroll and drop", "Classes")
OVERRIDE_ENROLLMENT = register(
    "enrollment.override", "Enroll over capacity or outside the eligibility rules", "Classes"
)
TAKE_ATTENDANCE = register("attendance.take", "Take attendance", "Classes")
SEND_EMAIL = register("messages.email", "Send email messages", "Messages")
SEND_SMS = register("messages.sms", "Send SMS and voice messages", "Messages")
VIEW_REPORTS = register("reports.view", "View reports", "Reports")
EXPORT_DATA = register("data.export", "Export data", "Reports")
MANAGE_STAFF = register("staff.manage", "Manage staff", "Administration")
MANAGE_SETTINGS = register("settings.manage", "Manage settings and locations", "Administration")
VIEW_AUDIT = register("audit.view", "View audit log", "Administration")
MANAGE_PORTAL = register("portal.manage", "Manage the customer portal", "Administration")
