"""Reading and checking an extract: readers, profiles, coercion, validation, NIR pseudonyms."""
