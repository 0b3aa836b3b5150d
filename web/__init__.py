"""The department map viewer, report pages and upload forms."""
