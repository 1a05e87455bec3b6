"""The line matcher on hand-written invoices against their quotes and orders."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from common.matching.lines import (
    OVER_INVOICED,
    PRICE_ABOVE_QUOTE,
    QUANTITY_ABOVE_ORDER,
    UNCERTAIN,
    UNMATCHED_LINE,
    Line,
    Tolerances,
    assign,
    match_lines,
    normalize_description,
    over_invoiced,
)

D = Decimal


def line(description: str, quantity: str, unit_price: str, amount: str | None = None) -> Line:
    q, p = D(quantity), D(unit_price)
    return Line(description, q, p, D(amount) if amount is not None else q * p, D("19.00"))


ORDER = [
    line("Ergonomic office chair", "4", "250.00"),
    line("On-site installation", "1", "400.00"),
    line("Network cabling Cat6", "100", "8.50"),
    line("Project management", "10", "120.00"),
]


def codes(result) -> list[tuple[str, int | None, int | None]]:
    return sorted((d.code, d.invoice_line, d.order_line) for d in result.deviations)


def test_an_identical_invoice_pairs_every_line_and_flags_nothing():
    result = match_lines(ORDER, ORDER)
    assert result.pair_set() == {(0, 0), (1, 1), (2, 2), (3, 3)}
    assert result.deviations == ()


def test_reordered_and_renamed_lines_pair_with_their_ordered_lines():
    invoice = [
        line("Project mgmt", "10", "120.00"),
        line("Cabling, Cat 6 network", "100", "8.50"),
        line("Office chair, ergonomic", "4", "250.00"),
        line("Instal. on site", "1", "400.00"),
    ]
    result = match_lines(invoice, ORDER)
    assert result.pair_set() == {(0, 3), (1, 2), (2, 0), (3, 1)}
    assert result.deviations == ()


def test_a_typo_does_not_stop_a_pair():
    invoice = [line("Ergonmic offfice chair", "4", "250.00")]
    assert match_lines(invoice, ORDER[:1]).pair_set() == {(0, 0)}


def test_a_price_above_tolerance_is_flagged_on_its_line():
    invoice = [line("Ergonomic office chair", "4", "260.00"), *ORDER[1:]]
    result = match_lines(invoice, ORDER, Tolerances(price_percent=D("2.00")))
    assert codes(result) == [(PRICE_ABOVE_QUOTE, 0, 0)]


def test_a_price_within_tolerance_or_lower_is_not_flagged():
    invoice = [
        line("Ergonomic office chair", "4", "254.99"),
        line("On-site installation", "1", "350.00"),
    ]
    result = match_lines(invoice, ORDER[:2], Tolerances(price_percent=D("2.00")))
    assert result.pair_set() == {(0, 0), (1, 1)}
    assert result.deviations == ()


def test_a_renamed_line_with_a_changed_price_still_pairs_and_is_flagged():
    invoice = [line("Chair, ergonomic model", "4", "300.00"), *ORDER[1:]]
    result = match_lines(invoice, ORDER, Tolerances(price_percent=D("1.00")))
    assert (0, 0) in result.pair_set()
    assert codes(result) == [(PRICE_ABOVE_QUOTE, 0, 0)]


def test_a_split_delivery_pairs_both_parts_and_sums_their_quantities():
    invoice = [
        line("Network cabling Cat6 (delivery 1)", "60", "8.50"),
        line("Network cabling Cat6 (delivery 2)", "40", "8.50"),
    ]
    result = match_lines(invoice, ORDER)
    assert result.pair_set() == {(0, 2), (1, 2)}
    assert result.invoiced_quantities == {2: D(100)}
    assert result.deviations == ()


def test_split_parts_billing_more_than_ordered_raise_quantity_above_order():
    invoice = [
        line("Network cabling Cat6 (delivery 1)", "60", "8.50"),
        line("Network cabling Cat6 (delivery 2)", "45", "8.50"),
    ]
    result = match_lines(invoice, ORDER, Tolerances(quantity=D(2)))
    assert [d.code for d in result.deviations] == [QUANTITY_ABOVE_ORDER]
    assert result.deviations[0].order_line == 2


def test_quantity_within_its_tolerance_is_not_flagged():
    invoice = [line("Network cabling Cat6", "102", "8.50")]
    assert match_lines(invoice, ORDER, Tolerances(quantity=D(2))).deviations == ()


def test_earlier_invoices_quantities_accumulate_against_the_order():
    invoice = [line("Network cabling Cat6", "50", "8.50")]
    assert match_lines(invoice, ORDER, invoiced_before={2: D(50)}).deviations == ()
    result = match_lines(invoice, ORDER, invoiced_before={2: D(60)})
    assert [d.code for d in result.deviations] == [QUANTITY_ABOVE_ORDER]


def test_merged_lines_named_in_one_description_pair_with_each_ordered_line():
    invoice = [
        line("Ergonomic office chair", "4", "250.00"),
        line("On-site installation and project management", "1", "1600.00"),
    ]
    result = match_lines(invoice, ORDER)
    assert result.pair_set() == {(0, 0), (1, 1), (1, 3)}
    assert result.deviations == ()


def test_a_lump_sum_under_new_words_pairs_by_its_exact_amount():
    invoice = [line("Services as agreed", "1", "1600.00")]
    result = match_lines(invoice, ORDER[1:2] + ORDER[3:])
    assert result.pair_set() == {(0, 0), (0, 1)}


def test_a_merged_line_above_the_sum_of_its_parts_is_flagged():
    invoice = [line("On-site installation and project management", "1", "1900.00")]
    result = match_lines(invoice, [ORDER[1], ORDER[3]], Tolerances(amount=D(0)))
    assert [d.code for d in result.deviations] == [PRICE_ABOVE_QUOTE]


def test_an_extra_line_is_unmatched_and_unbilled_ordered_lines_are_not_flagged():
    invoice = [line("Ergonomic office chair", "4", "250.00"), line("Freight charges", "1", "45.00")]
    result = match_lines(invoice, ORDER)
    assert result.pair_set() == {(0, 0)}
    assert codes(result) == [(UNMATCHED_LINE, 1, None)]


def test_lines_without_figures_pair_by_their_words():
    invoice = [Line("Project management"), Line("Ergonomic office chair")]
    order = [Line("Ergonomic office chair"), Line("Project management")]
    assert match_lines(invoice, order).pair_set() == {(0, 1), (1, 0)}


def test_empty_documents_match_nothing():
    assert match_lines([], ORDER).pairs == ()
    result = match_lines(ORDER, [])
    assert [d.code for d in result.deviations] == [UNMATCHED_LINE] * 4


def test_over_invoiced_counts_earlier_invoices_against_the_order_total():
    tolerance = Tolerances(amount=D(100))
    assert over_invoiced(D(10000), D(6000), D(4000), tolerance) is None
    assert over_invoiced(D(10000), D(6000), D(4100), tolerance) is None
    deviation = over_invoiced(D(10000), D(6000), D(4101), tolerance)
    assert deviation is not None
    assert deviation.code == OVER_INVOICED
    assert over_invoiced(None, D(0), D(1), tolerance) is None


def test_abbreviations_fold_on_both_sides():
    assert normalize_description("Instal. incl. 10m cabling") == (
        "installation including 10m cabling"
    )


def test_the_assignment_maximises_the_total_score_not_the_first_best_pair():
    # greedy would take (0, 0) = 0.9 and leave (1, 1) = 0.1; the optimum is 0.8 + 0.8
    scores = np.array([[0.9, 0.8], [0.8, 0.1]])
    assert sorted(assign(scores)) == [(0, 1), (1, 0)]
    assert assign(np.zeros((0, 3))) == []
    assert sorted(assign(np.array([[0.1], [0.9], [0.5]]))) == [(1, 0)]


def test_a_line_renamed_beyond_recognition_pairs_uncertainly_with_what_is_left():
    # nothing in the words ("PM services") and neither price nor quantity as ordered
    invoice = [*ORDER[:3], line("PM services", "12", "131.00")]
    result = match_lines(invoice, ORDER, Tolerances(price_percent=D("1.00")))
    assert (3, 3) in result.pair_set()
    assert [pair.kind for pair in result.pairs if pair.invoice_line == 3] == [UNCERTAIN]
    # compared like any pair, and flagged for review as a pair its words do not confirm
    assert codes(result) == [
        (PRICE_ABOVE_QUOTE, 3, 3),
        (QUANTITY_ABOVE_ORDER, 3, 3),
        (UNMATCHED_LINE, 3, 3),
    ]


def test_an_uncertain_pair_at_the_ordered_figures_is_still_flagged_for_review():
    invoice = [*ORDER[:3], line("PM services", "8", "118.00")]
    result = match_lines(invoice, ORDER)
    assert codes(result) == [(UNMATCHED_LINE, 3, 3)]
    assert result.invoiced_quantities[3] == D(8)


def test_a_single_fee_does_not_pair_uncertainly_with_a_bulk_line_at_a_like_price():
    order = [ORDER[0], line("Work gloves, pair", "40", "9.00")]
    invoice = [ORDER[0], line("Small order fee", "1", "9.50")]
    result = match_lines(invoice, order)
    assert result.pair_set() == {(0, 0)}
    assert codes(result) == [(UNMATCHED_LINE, 1, None)]


def test_no_uncertain_pair_at_a_price_far_from_the_ordered_one():
    invoice = [*ORDER[:3], line("PM services", "10", "60.00")]
    result = match_lines(invoice, ORDER)
    assert (3, 3) not in result.pair_set()
    assert codes(result) == [(UNMATCHED_LINE, 3, None)]


def test_the_other_part_of_an_uncertainly_paired_split_joins_it():
    invoice = [
        *ORDER[:3],
        line("PM services (delivery 1)", "7", "131.00"),
        line("PM services (delivery 2)", "6", "131.00"),
    ]
    result = match_lines(invoice, ORDER, Tolerances(price_percent=D("1.00")))
    assert {(3, 3), (4, 3)} <= result.pair_set()
    assert result.invoiced_quantities[3] == D(13)
    assert (QUANTITY_ABOVE_ORDER, 3, 3) in codes(result)


def test_a_single_fee_paired_on_barely_alike_words_is_flagged_for_review():
    # an extra charge left to pair with an unbilled single-unit line at another price
    order = [ORDER[0], line("Electrician hours", "1", "70.00")]
    invoice = [ORDER[0], line("Rush delivery", "1", "40.00")]
    result = match_lines(invoice, order)
    uncertain = [pair for pair in result.pairs if pair.kind == UNCERTAIN]
    assert [(pair.invoice_line, pair.order_line) for pair in uncertain] == [(1, 1)]
    assert codes(result) == [(UNMATCHED_LINE, 1, 1)]


def test_single_units_at_the_same_price_confirm_a_pair_without_words():
    order = [ORDER[0], line("Electrician hours", "1", "70.00")]
    invoice = [ORDER[0], line("Electrical work", "1", "70.00")]
    result = match_lines(invoice, order)
    assert result.pair_set() == {(0, 0), (1, 1)}
    assert result.deviations == ()


def test_a_lump_sum_naming_one_line_takes_the_open_line_its_remainder_fits():
    # "PM services" is unrecognised; 3 of 4 chairs and the management make the amount
    order = [
        line("Ergonomic office chair", "4", "250.00"),
        line("Project management", "1", "400.00"),
    ]
    invoice = [line("Ergonomic office chair + PM services", "1", "1150.00")]
    result = match_lines(invoice, order, Tolerances(amount=D(0)))
    assert result.pair_set() == {(0, 0), (0, 1)}
    assert result.deviations == ()


def test_a_lump_sum_beyond_its_line_and_every_open_remainder_stays_flagged():
    order = [
        line("Ergonomic office chair", "4", "250.00"),
        line("Project management", "1", "400.00"),
    ]
    invoice = [line("Ergonomic office chair + PM services", "1", "1500.00")]
    result = match_lines(invoice, order, Tolerances(amount=D(0)))
    assert result.pair_set() == {(0, 0)}
    assert [d.code for d in result.deviations] == [PRICE_ABOVE_QUOTE]


def test_an_amount_completed_by_chance_does_not_merge_into_a_line_of_several_units():
    # 3 monitors at a raised price happen to bill what the monitors and the paint come to
    order = [
        line("27 inch monitor", "3", "448.88"),
        line("Interior painting per m2", "10", "14.66"),
    ]
    invoice = [line("27 inch monitor", "3", "497.71")]
    result = match_lines(invoice, order)
    assert result.pair_set() == {(0, 0)}
    assert codes(result) == [(PRICE_ABOVE_QUOTE, 0, 0)]


def test_a_lump_sum_under_new_words_must_be_exact_to_the_cent():
    order = [line("Bottled water crate", "5", "9.00"), line("Steel rebar 12mm", "1", "13.21")]
    assert match_lines([line("Express surcharge", "1", "58.21")], order).pair_set() == {
        (0, 0),
        (0, 1),
    }
    result = match_lines([line("Express surcharge", "1", "58.22")], order)
    assert result.pair_set() == set()
    assert codes(result) == [(UNMATCHED_LINE, 0, None)]


def test_single_unit_parts_of_a_split_delivery_pair_uncertainly_with_a_bulk_line():
    invoice = [
        *ORDER[:3],
        line("PM services (delivery 1)", "1", "131.00"),
        line("PM services (delivery 2)", "1", "131.00"),
    ]
    result = match_lines(invoice, ORDER, Tolerances(price_percent=D("1.00")))
    assert {(3, 3), (4, 3)} <= result.pair_set()
    assert {(PRICE_ABOVE_QUOTE, 3, 3), (PRICE_ABOVE_QUOTE, 4, 3)} <= set(codes(result))


def test_a_split_part_given_to_another_ordered_line_by_the_assignment_joins_its_sibling():
    order = [
        line("Network cabling Cat6", "100", "8.50"),
        line("Network switch 8 port", "45", "9.00"),
    ]
    invoice = [
        line("Network cabling Cat6, delivery 1", "60", "8.50"),
        line("Network cabling Cat6, delivery 2", "45", "8.50"),
    ]
    result = match_lines(invoice, order)
    assert result.pair_set() == {(0, 0), (1, 0)}
    assert codes(result) == [(QUANTITY_ABOVE_ORDER, 0, 0)]


def test_a_single_fee_paired_with_a_bulk_line_on_barely_alike_words_is_flagged_for_review():
    order = [ORDER[0], line("Web hosting, annual plan", "2", "80.65")]
    invoice = [ORDER[0], line("Packaging and handling", "1", "80.67")]
    result = match_lines(invoice, order)
    assert UNMATCHED_LINE in [d.code for d in result.deviations if d.invoice_line == 1]


def test_a_line_at_the_ordered_price_takes_its_line_back_from_an_unconfirmed_pair():
    # the levy pairs with the helmet first (one unit each); the hard hat bills it
    order = [ORDER[0], line("Safety helmet", "1", "34.46")]
    invoice = [ORDER[0], line("Environmental levy", "1", "55.24"), line("Hard hat", "3", "34.46")]
    result = match_lines(invoice, order)
    assert result.pair_set() == {(0, 0), (2, 1)}
    assert codes(result) == [
        (QUANTITY_ABOVE_ORDER, 2, 1),
        (UNMATCHED_LINE, 1, None),
        (UNMATCHED_LINE, 2, 1),
    ]
