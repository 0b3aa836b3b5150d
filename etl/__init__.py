"""ETL: read, normalise, validate, report and load department uploads."""
