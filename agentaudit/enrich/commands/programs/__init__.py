"""Per-program analysers: semantics too rich for the YAML packs (flags, targets, scope)."""
