"""Small typed frames for hand-written test cases (the dtypes the warehouse reads back)."""

import pandas as pd


def typed_frame(
    rows: list[dict], defaults: dict, dates: tuple = (), ints: tuple = (), bools: tuple = ()
) -> pd.DataFrame:
    """Rows over defaults; dates as datetime64[us], ints as Int64, bools as boolean, the rest as str."""
    df = pd.DataFrame([defaults | r for r in rows], columns=list(defaults))
    for c in df.columns:
        if c in dates:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif c in ints:
            df[c] = df[c].astype("Int64")
        elif c in bools:
            df[c] = df[c].astype("boolean")
        else:
            df[c] = df[c].astype("str")
    return df
