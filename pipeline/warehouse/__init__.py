"""The DuckDB warehouse: its tables, its SQL models and their stored results."""
