"""The anomaly model: window features, an IsolationForest over them, and its detector."""
