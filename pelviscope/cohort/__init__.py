"""Cohort-scale batches: day-by-day units, Dask execution and tidy Parquet tables.

Used by ``pelviscope analyze`` for several inputs or a folder (its batch path);
``docs/parquet.md`` documents the tables.
"""
