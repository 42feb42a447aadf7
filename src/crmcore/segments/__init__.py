"""Segment rules: one rule language, evaluated on objects, numpy frames and SQL."""
