"""`agentaudit watch`: the collectors, detectors and alerter as a long-running service."""
