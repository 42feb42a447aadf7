"""Reference data tables (ISO 3166-1, ITU-T E.164 calling codes, ISO 4217)."""
