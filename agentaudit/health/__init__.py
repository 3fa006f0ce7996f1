"""Source health (issue 19): when each source last reported, at what usual pace, and which
have gone silent while their host kept reporting."""
