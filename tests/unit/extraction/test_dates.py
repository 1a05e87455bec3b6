"""Dates in the common orders and month names of EN/DE/FR/ES/IT/NL/PT."""

import datetime as dt

import pytest

from workers.extraction.dates import find_dates, infer_day_first, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05.03.2018", "2018-03-05"),
        ("2018-03-05", "2018-03-05"),
        ("8-9-2022", "2022-09-08"),
        ("5. März 2018", "2018-03-05"),
        ("1er janvier 2022", "2022-01-01"),
        ("3 de marzo de 2022", "2022-03-03"),
        ("12 dicembre 2021", "2021-12-12"),
        ("7 mei 2020", "2020-05-07"),
        ("9 de outubro de 2019", "2019-10-09"),
        ("Jan 1, 2022", "2022-01-01"),
        ("March 4th, 2021", "2021-03-04"),
        ("20/10/15", "2015-10-20"),
    ],
)
def test_dates_are_read_in_every_common_form(text, expected):
    assert parse_date(text).isoformat() == expected


def test_ambiguous_slash_dates_follow_the_document_order():
    assert parse_date("03/04/2022", day_first=True) == dt.date(2022, 4, 3)
    assert parse_date("03/04/2022", day_first=False) == dt.date(2022, 3, 4)


def test_a_date_that_only_reads_month_first_decides_the_document():
    assert infer_day_first(["Invoice Date: 03/20/2023", "Due: 04/04/2023"], "en") is False


def test_a_date_that_only_reads_day_first_decides_the_document():
    assert infer_day_first(["Date: 20/03/2023", "Due: 04/04/2023"], "en", "USD") is True


def test_without_evidence_us_english_is_month_first_and_others_day_first():
    assert infer_day_first(["01/02/2023"], "en", "USD") is False
    assert infer_day_first(["01/02/2023"], "fr", "EUR") is True


def test_impossible_dates_are_ignored():
    assert find_dates("31.02.2020") == []
