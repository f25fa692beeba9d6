"""Facts every stage shares: errors, the canonical layout, labels, reference tables."""
