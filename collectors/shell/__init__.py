"""Shell history collectors, one shell a module."""
