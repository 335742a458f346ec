"""Payments steps of the worker's periodic housekeeping."""

from classbook.core.housekeeping import step


@step("reconcile_payments", per_account=True)
def reconcile_payments() -> int:
    from classbook.payments.reconcile import reconcile

    report = reconcile()
    return report.settled + report.recorded + report.duplicates + report.refunds_recorded
