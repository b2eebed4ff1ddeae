"""One definition of every warehouse table (columns, types, descriptions, keys).

From it come the Pandera schemas (`schemas.pandera_schemas`), the warehouse DDL (`schemas.ddl`) and
the data dictionary (`schemas.dictionary`, written to docs/data_dictionary.md), as PUDL does.
"""

from schemas.tables import TABLES, Table, table

__all__ = ["TABLES", "Table", "table"]
