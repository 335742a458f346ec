"""Money: integer cents with a currency; never floats."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classbook.core.money import CURRENCIES, CurrencyMismatch, Money

currencies = st.sampled_from(sorted(CURRENCIES))


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("0.01", 1),
        ("$1,012.50", 101250),
        ("  7.05 ", 705),
        ("-3.20", -320),
    ],
)
def test_parse_reads_amounts_as_cents(text, cents):
    assert Money.parse(text, "USD") == Money(cents, "USD")


def test_parse_strips_the_currencys_own_symbol():
    assert Money.parse("€9.99", "EUR") == Money(999, "EUR")
    assert Money.parse("£1,000", "GBP") == Money(100000, "GBP")


@pytest.mark.parametrize("text", ["12.345", "0.001"])
def test_parse_refuses_fractions_of_a_cent(text):
    with pytest.raises(ValueError, match="more than two decimal places"):
        Money.parse(text, "USD")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf"])
def test_parse_refuses_non_finite_values(text):
    with pytest.raises(ValueError):
        Money.parse(text, "USD")


@pytest.mark.parametrize("text", ["", "abc", "12,3.4.5", "€5"])
def test_parse_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError, match="is not an amount"):
        Money.parse(text, "USD")


def test_format_uses_symbol_thousands_and_two_decimals():
    assert str(Money(123456789, "USD")) == "$1,234,567.89"
    assert str(Money(5, "GBP")) == "£0.05"
    assert str(Money(0, "EUR")) == "€0.00"
    assert str(Money(-1050, "CAD")) == "-$10.50"


def test_add_subtract_and_negate():
    a, b = Money(1250, "USD"), Money(399, "USD")
    assert a + b == Money(1649, "USD")
    assert a - b == Money(851, "USD")
    assert -a == Money(-1250, "USD")


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b])
def test_different_currencies_cannot_be_combined(operation):
    with pytest.raises(CurrencyMismatch, match="USD and CAD"):
        operation(Money(100, "USD"), Money(100, "CAD"))


@pytest.mark.parametrize("cents", [1.5, 10.0, True, "100"])
def test_cents_must_be_an_int(cents):
    with pytest.raises(TypeError):
        Money(cents, "USD")


def test_unknown_currency_is_refused():
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(100, "XYZ")
    with pytest.raises(ValueError, match="unsupported currency"):
        Money.parse("1.00", "XYZ")


def test_money_is_immutable():
    money = Money(100, "USD")
    with pytest.raises(AttributeError):
        money.cents = 200


@given(cents=st.integers(min_value=0, max_value=10**15), currency=currencies)
def test_parse_of_the_formatted_amount_round_trips(cents, currency):
    money = Money(cents, currency)
    assert Money.parse(str(money), currency) == money


@given(
    a=st.integers(min_value=-(10**12), max_value=10**12),
    b=st.integers(min_value=-(10**12), max_value=10**12),
    currency=currencies,
)
def test_addition_matches_integer_addition(a, b, currency):
    total = Money(a, currency) + Money(b, currency)
    assert total == Money(a + b, currency)
    assert total - Money(b, currency) == Money(a, currency)


@given(cents=st.integers(min_value=-(10**15), max_value=-1), currency=currencies)
def test_parse_of_a_formatted_negative_amount_round_trips(cents, currency):
    money = Money(cents, currency)
    assert Money.parse(str(money), currency) == money
