"""The anomaly model: window features over the store and an IsolationForest over them."""
