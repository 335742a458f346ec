"""Money as integer cents with a currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Currencies an account may use: all have two decimal places (cents).
CURRENCIES: dict[str, str] = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "GBP": "£",
    "EUR": "€",
}


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    cents: int
    currency: str

    def __post_init__(self):
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money.cents must be an int")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """'12.5' or '$1,012.50' -> cents; more than two decimals is an error."""
        cleaned = text.strip().replace(",", "")
        negative = cleaned.startswith("-")
        cleaned = cleaned.lstrip("-").strip().removeprefix(CURRENCIES.get(currency, "")).strip()
        # Plain digits with an optional point only: no exponents, NaN or Infinity.
        if (
            not cleaned
            or not all(ch.isdigit() or ch == "." for ch in cleaned)
            or (not cleaned.isascii())
        ):
            raise ValueError(f"{text!r} is not an amount")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not an amount") from None
        if amount.as_tuple().exponent < -2:
            raise ValueError(f"{text!r} has more than two decimal places")
        if negative:
            amount = -amount
        return cls(int((amount * 100).to_integral_value(ROUND_HALF_UP)), currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}{CURRENCIES[self.currency]}{whole:,}.{cents:02d}"
