"""Parsers: explicit formats, nothing guessed, invalid values marked (expected values worked out by hand)."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import parse
from ingest.parse import map_codes, parse_dates, parse_decimal, parse_integer, parse_yes_no


def s(*values):
    return pd.Series(list(values), dtype="str")


def test_dates_in_every_accepted_style():
    values, invalid = parse_dates(
        s("2023-03-01", "01-03-2023", "1/3/2023", "01.03.2023", "44986", "", "2023-03-01 00:00:00")
    )
    assert not invalid.any()
    assert (
        values.iloc[0]
        == values.iloc[1]
        == values.iloc[2]
        == values.iloc[3]
        == values.iloc[6]
        == pd.Timestamp("2023-03-01")
    )
    assert values.iloc[4] == pd.Timestamp("2023-03-01")  # Excel serial 44986
    assert pd.isna(values.iloc[5])


def test_day_first_never_swapped():
    values, _invalid = parse_dates(s("02-03-2023"))
    assert values.iloc[0] == pd.Timestamp("2023-03-02")


def test_impossible_and_garbage_dates_are_invalid():
    values, invalid = parse_dates(s("31-02-2023", "2023-02-30", "gisteren", "13-13-2020", "12345"))
    assert invalid.tolist() == [True, True, True, True, True]
    assert values.isna().all()


def test_decimal_comma_and_point():
    values, invalid = parse_decimal(s("32,5", "32.5", "1.234,5", "", "abc", "24"))
    assert values.iloc[0] == 32.5 and values.iloc[1] == 32.5 and values.iloc[2] == 1234.5 and values.iloc[5] == 24
    assert invalid.tolist() == [False, False, False, False, True, False]


def test_integer_rejects_fractions():
    values, invalid = parse_integer(s("2", "2,5", "3.0"))
    assert invalid.tolist() == [False, True, False]
    assert values.iloc[2] == 3


def test_yes_no():
    values, invalid = parse_yes_no(s("ja", "Nee", "J", "n", "", "misschien"))
    assert values.iloc[:4].tolist() == [True, False, True, False]
    assert invalid.tolist() == [False, False, False, False, False, True]


def test_codes_unknown_label_is_invalid_not_null():
    codes, invalid = map_codes(s("F010", "f010 ", "F999", ""), {"f010": "HHU"})
    assert codes.iloc[0] == "HHU" and codes.iloc[1] == "HHU"
    assert invalid.tolist() == [False, False, True, False]
    assert pd.isna(codes.iloc[3])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(
                [
                    "01-02-2020",
                    "2020-02-30",
                    "44000",
                    "ja",
                    "Nee",
                    " ",
                    "",
                    "12,5",
                    "1.234,5",
                    "7",
                    "2511 AB",
                    "0999 zz",
                    "111222333",
                    "abc",
                ]
            ),
            st.text(max_size=8),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_parsing_distinct_values_equals_parsing_every_row(cells):
    """parse.on_unique is an optimisation only: the same values and invalid marks as the parser itself."""
    from ingest.pseudonymise import check_and_pseudonymise, municipalities_from_postcodes

    values = pd.Series(cells, dtype="str", index=range(100, 100 + len(cells)))
    for parser, args in [
        (parse.parse_dates, ()),
        (parse.parse_decimal, ()),
        (parse.parse_integer, ()),
        (parse.parse_yes_no, ()),
        (parse.parse_text, ()),
        (parse.map_codes, ({"ja": "J"},)),
        (check_and_pseudonymise, ("bsn", b"k")),
        (municipalities_from_postcodes, ({2511: "GM0518"},)),
    ]:
        direct, fast = parser(values, *args), parse.on_unique(parser, values, *args)
        pd.testing.assert_series_equal(fast[0], direct[0], check_names=False)
        pd.testing.assert_series_equal(fast[1], direct[1], check_names=False)
