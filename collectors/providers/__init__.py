"""Provider and platform audit-log collectors, one format a module."""
