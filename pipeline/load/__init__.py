"""Loading a checked extract into the warehouse, in one transaction."""
