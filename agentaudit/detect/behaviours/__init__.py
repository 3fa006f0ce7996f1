"""Behaviours: sequences across events and sources, one detector a module, tests beside."""
