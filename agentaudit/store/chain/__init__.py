"""The tamper-evident chain over the store's events, findings, alerts and deliveries.

`rows.py` what is hashed; `writer.py` links and signed checkpoints (the store's write path);
`signing.py` the ed25519 key and statements; `merkle.py` RFC 6962 trees; `verify.py` and
`proof.py` `agentaudit verify`.
"""
