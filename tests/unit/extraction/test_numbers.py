"""Amounts as invoices print them, and the per-document decimal separator."""

from decimal import Decimal

import pytest

from workers.extraction.numbers import (
    currency_mentions,
    decimal_separator_of,
    find_amounts,
    parse_amount,
)


@pytest.mark.parametrize(
    ("text", "separator", "expected"),
    [
        ("1.234,56", ",", "1234.56"),
        ("1,234.56", ".", "1234.56"),
        ("1 234,56", ",", "1234.56"),
        ("1'234.56", ".", "1234.56"),
        ("12,00 EUR", ",", "12.00"),
        ("€ 1.250", ",", "1250"),
        ("$ 42.00", ".", "42.00"),
        ("0,0520", ",", "0.0520"),
    ],
)
def test_common_amount_notations_read_as_the_same_decimal(text, separator, expected):
    assert parse_amount(text, separator) == Decimal(expected)


@pytest.mark.parametrize("text", ["-8,79", "8,79-", "(8.79)", "− 8,79"])
def test_negative_amounts_keep_their_sign(text):
    assert parse_amount(text, ",") == Decimal("-8.79")


def test_an_ambiguous_thousands_group_follows_the_document():
    assert parse_amount("1.234", ",") == Decimal(1234)
    assert parse_amount("1.234", ".") == Decimal("1.234")


def test_percentages_are_not_amounts():
    amounts = find_amounts("TVA 20% : 9,34 €", ",")
    assert [amount.value for amount in amounts] == [Decimal("9.34")]


def test_dates_and_identifiers_are_not_amounts():
    assert find_amounts("05.03.2018 DE123456789 INV-2023", ",") == []


def test_a_comma_misread_as_a_dot_before_the_cents_keeps_the_cents():
    assert [a.value for a in find_amounts("Total Due 32.887.77 €", ".")] == [Decimal("32887.77")]
    assert [a.value for a in find_amounts("1.234.567", ",")] == [Decimal(1234567)]


def test_codes_written_as_long_or_zero_led_digit_runs_are_not_amounts():
    amounts = find_amounts("Codice fiscale: 09876543210 Tel. 0301234567 Totale 1234567,00", ",")
    assert [amount.value for amount in amounts] == [Decimal("1234567.00")]


def test_plain_space_groups_are_joined_only_in_decimal_comma_documents():
    assert [a.value for a in find_amounts("Total 1 278.61", ".")] == [1, Decimal("278.61")]
    assert [a.value for a in find_amounts("Total 1 278,61", ",")] == [Decimal("1278.61")]


def test_the_decimal_separator_is_the_one_most_prices_use():
    assert decimal_separator_of(["9,90", "198,00", "2018"]) == ","
    assert decimal_separator_of(["$ 42.00", "1,234.50"]) == "."
    assert decimal_separator_of(["no numbers"]) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Total 12,00 €", "EUR"),
        ("£ 5.00", "GBP"),
        ("CHF 10.00", "CHF"),
        ("₹ 319", "INR"),
        ("Rs -40.00", "INR"),
        ("RM 12.50", "MYR"),
        ("Amount USD 5", "USD"),
    ],
)
def test_currency_symbols_and_codes_name_iso_currencies(text, code):
    assert code in [found for found, _ in currency_mentions(text)]
