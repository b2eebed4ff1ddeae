"""BSN and onderwijsnummer checks and keyed pseudonyms."""

import hashlib

import pandas as pd

from ingest.pseudonymise import (
    check_and_pseudonymise,
    is_valid_bsn,
    is_valid_onderwijsnummer,
    municipalities_from_postcodes,
    pseudonym,
)
from ingest.reference import Reference


def test_eleven_check_worked_by_hand():
    # 111222333: 9+8+7+12+10+8+9+6 - 3 = 66 = 6 x 11
    assert is_valid_bsn("111222333")
    # 111222334: 66 - 1 = 65, not divisible by 11
    assert not is_valid_bsn("111222334")
    assert not is_valid_bsn("000000000")  # sum 0 is excluded
    assert not is_valid_bsn("12345")
    # 8 digits are left-padded (a leading zero lost in a spreadsheet):
    # 011222330 -> 0+8+7+12+10+8+9+6-0 = 60, not divisible
    assert not is_valid_bsn("11222330")


def test_onderwijsnummer_rule_worked_by_hand():
    # 100000009: 9*1 + 0 ... - 9 = 0 -> mod 11 = 0, not 5
    assert not is_valid_onderwijsnummer("100000009")
    # 100000004: 9*1 - 4 = 5 -> valid
    assert is_valid_onderwijsnummer("100000004")
    assert not is_valid_onderwijsnummer("200000004")  # must start with 10


def test_same_bsn_same_key_same_pseudonym_across_partners_other_key_other_pseudonym():
    a, _ = check_and_pseudonymise(pd.Series(["111222333"], dtype="str"), "bsn", b"key-one")
    b, _ = check_and_pseudonymise(pd.Series([" 111.222.333 "], dtype="str"), "bsn", b"key-one")
    c, _ = check_and_pseudonymise(pd.Series(["111222333"], dtype="str"), "bsn", b"key-two")
    assert a.iloc[0] == b.iloc[0]
    assert a.iloc[0] != c.iloc[0]
    assert a.iloc[0] != hashlib.sha256(b"111222333").hexdigest()  # keyed, not a plain hash
    assert "111222333" not in a.iloc[0]


def test_invalid_number_is_never_hashed():
    values, invalid = check_and_pseudonymise(pd.Series(["111222334", "", "111222333"], dtype="str"), "bsn", b"k")
    assert invalid.tolist() == [True, False, False]
    assert pd.isna(values.iloc[0]) and pd.isna(values.iloc[1])
    assert values.iloc[2] == pseudonym("bsn", "111222333", b"k")


def test_bsn_and_onderwijsnummer_pseudonyms_differ_for_the_same_digits():
    assert pseudonym("bsn", "100000004", b"k") != pseudonym("onderwijsnummer", "100000004", b"k")


def test_postcode_to_municipality():
    lookup = Reference().pc4_lookup
    codes, invalid = municipalities_from_postcodes(
        pd.Series(["2511 AB", "2611cd", "3011 AA", "", "12", "2290"], dtype="str"), lookup
    )
    assert codes.iloc[0] == "GM0518"  # Den Haag
    assert codes.iloc[1] == "GM0503"  # Delft
    assert codes.iloc[2] == "BUITEN_REGIO"  # Rotterdam
    assert pd.isna(codes.iloc[3])
    assert invalid.tolist() == [False, False, False, False, True, False]
    assert codes.iloc[5] == "BUITEN_REGIO"  # 2290 is not in a Haaglanden range
