"""Normalise first, then check: turn the export's text into ready, typed columns."""
