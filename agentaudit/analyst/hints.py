"""What to tell someone whose store has nothing to show yet."""

from __future__ import annotations

from agentaudit.store import Store


def empty_store_hint(store: Store) -> str | None:
    """A next step when the store has no events or no alerts; None when there is data."""
    events = store.count("events")
    if events == 0:
        return (
            "The store has no events yet. Ingest logs with `agentaudit ingest PATH...` "
            "(see `agentaudit sources`), or try `agentaudit demo`."
        )
    if store.count("alerts") == 0:
        return (
            f"The store holds {events:,} events but no incidents: run `agentaudit detect` "
            "to turn findings into incidents (none may fire, which is good news)."
        )
    return None
