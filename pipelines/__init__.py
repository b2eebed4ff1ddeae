"""Dagster definitions: thin wiring of the pure code in src/ into assets, checks, resources and jobs."""
