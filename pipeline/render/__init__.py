"""Rendering a report dict to JSON, HTML, PDF and XLSX."""
