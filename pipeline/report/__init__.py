"""Building the annexe 3 report (a dict) from the warehouse's stored models."""
