"""BSN and onderwijsnummer: generation and checks (the "11-check").

A BSN is nine digits (left-padded with zeros) with 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible
by 11 and not zero. An onderwijsnummer starts with "10" and the same weighted sum mod 11 is 5.
"""

from __future__ import annotations

import random

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def digits_only(value: object) -> str:
    """Keep the digits of a value ("912.345.678" -> "912345678")."""
    return "".join(ch for ch in str(value) if ch.isdigit())


def weighted_sum(number: str) -> int:
    return sum(w * int(d) for w, d in zip(WEIGHTS, number))


def is_valid_bsn(value: object) -> bool:
    number = digits_only(value)
    if not number or len(number) > 9:
        return False
    number = number.zfill(9)
    total = weighted_sum(number)
    return total != 0 and total % 11 == 0


def is_valid_onderwijsnummer(value: object) -> bool:
    number = digits_only(value)
    if len(number) != 9 or not number.startswith("10"):
        return False
    return weighted_sum(number) % 11 == 5


def _complete(prefix: str, remainder: int) -> str | None:
    """Append the check digit d9 so that (sum of first 8 weighted) - d9 == remainder (mod 11)."""
    partial = sum(w * int(d) for w, d in zip(WEIGHTS[:8], prefix))
    check = (partial - remainder) % 11
    if check == 10:
        return None
    return prefix + str(check)


def new_bsn(rng: random.Random, used: set[str]) -> str:
    """A random valid, unused BSN starting with 9 or 8."""
    while True:
        prefix = rng.choice("98") + "".join(str(rng.randrange(10)) for _ in range(7))
        number = _complete(prefix, 0)
        if number is not None and number not in used:
            used.add(number)
            return number


def new_onderwijsnummer(rng: random.Random, used: set[str]) -> str:
    while True:
        prefix = "10" + "".join(str(rng.randrange(10)) for _ in range(6))
        number = _complete(prefix, 5)
        if number is not None and number not in used:
            used.add(number)
            return number


def invalidate_bsn(bsn: str, rng: random.Random) -> str:
    """Change the last digit so the 11-check fails (a typo in the check digit)."""
    last = int(bsn[-1])
    new = (last + rng.randint(1, 9)) % 10
    candidate = bsn[:-1] + str(new)
    # changing d9 by a non-zero amount below 11 always breaks the check
    assert not is_valid_bsn(candidate)
    return candidate


def dotted(number: str) -> str:
    """Write a nine-digit number as "912.345.678"."""
    return f"{number[:3]}.{number[3:6]}.{number[6:]}"
