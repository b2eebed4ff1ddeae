"""The warehouse: SQLAlchemy engine, DDL from schemas/, each database's bulk load path, reads."""
