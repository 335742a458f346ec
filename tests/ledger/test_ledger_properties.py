"""Hypothesis: random sequences of charges, payments, credits, refunds, reversals and
(re)allocations keep every derived figure equal to a recomputation from the entries, and
0 <= applied <= amount everywhere."""

import contextlib
from collections import defaultdict
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from classbook.core.errors import ValidationFailed
from classbook.ledger import services
from classbook.ledger.models import CREDIT, DEBIT, Allocation, LedgerEntry, LedgerSettings
from classbook.ledger.selectors import family_balance, refundable_cents
from tests.ledger.helpers import make_family

TODAY = date(2026, 11, 21)
cents = st.integers(min_value=1, max_value=50_000)
days = st.integers(min_value=-120, max_value=40)
pick = st.integers(min_value=0, max_value=10_000)


class LedgerMachine(RuleBasedStateMachine):
    @initialize(auto_apply=st.booleans())
    def open_family(self, auto_apply):
        LedgerSettings.objects.all().exists() or LedgerSettings.objects.create(
            auto_apply_credit=auto_apply
        )
        self.family = make_family("Property")

    def _entries(self, **filters):
        return list(LedgerEntry.objects.filter(family=self.family, **filters).order_by("id"))

    @rule(amount=cents, offset=days)
    def charge(self, amount, offset):
        due = TODAY + timedelta(days=offset)
        services.charge_post(
            family=self.family,
            charge_type="tuition",
            amount_cents=amount,
            description="Tuition",
            entry_date=due,
            due_date=due,
        )

    @rule(amount=cents, method=st.sampled_from(["cash", "check", "card_external"]))
    def pay(self, amount, method):
        services.payment_record(family=self.family, method=method, amount_cents=amount)

    @rule(amount=cents)
    def credit(self, amount):
        services.credit_post(
            family=self.family, credit_type="goodwill", amount_cents=amount, description="Goodwill"
        )

    @rule(which=pick, amount=cents)
    def refund(self, which, amount):
        payments = self._entries(kind="payment")
        if not payments:
            return
        payment = payments[which % len(payments)]
        try:
            services.refund_post(payment=payment, amount_cents=amount)
        except ValidationFailed:
            assert amount > refundable_cents(payment)

    @rule(which=pick)
    def reverse(self, which):
        entries = self._entries()
        if not entries:
            return
        # Refused for a reversal, an already reversed entry, or a payment with refunds.
        with contextlib.suppress(ValidationFailed):
            services.entry_reverse(entry=entries[which % len(entries)], reason="test")

    @rule(src=pick, dst=pick, amount=st.integers(min_value=-20_000, max_value=20_000))
    def move(self, src, dst, amount):
        sources = self._entries(direction=CREDIT)
        targets = self._entries(direction=DEBIT)
        if not sources or not targets or amount == 0:
            return
        before = Allocation.objects.count()
        try:
            services.allocation_change(
                source=sources[src % len(sources)],
                target=targets[dst % len(targets)],
                amount_cents=amount,
            )
        except ValidationFailed:
            assert Allocation.objects.count() == before  # refused means nothing written

    @invariant()
    def figures_match_a_recomputation(self):
        if not hasattr(self, "family"):
            return
        entries = self._entries()
        applied = defaultdict(int)
        pairs = defaultdict(int)
        for alloc in Allocation.objects.filter(source__family=self.family):
            applied[alloc.source_id] += alloc.amount_cents
            applied[alloc.target_id] += alloc.amount_cents
            pairs[(alloc.source_id, alloc.target_id)] += alloc.amount_cents
        assert all(total >= 0 for total in pairs.values())
        for entry in entries:
            assert 0 <= applied[entry.pk] <= entry.amount_cents, entry
        balance = sum(e.direction * e.amount_cents for e in entries)
        open_debits = sum(e.amount_cents - applied[e.pk] for e in entries if e.direction == DEBIT)
        open_credits = sum(e.amount_cents - applied[e.pk] for e in entries if e.direction == CREDIT)
        figures = family_balance(self.family, today=TODAY)
        assert figures.balance_cents == balance == open_debits - open_credits
        assert figures.unapplied_credit_cents == open_credits
        assert sum(figures.aging.values()) == open_debits
        for payment in (e for e in entries if e.kind == "payment"):
            refunded = sum(
                r.amount_cents
                for r in entries
                if r.refund_of_id == payment.pk
                and not r.__class__.objects.filter(reverses=r).exists()
            )
            assert refunded <= payment.amount_cents


def test_ledger_invariants_hold_for_any_sequence(in_a):
    LedgerMachine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    LedgerMachine.TestCase().runTest()
