"""Detection: link, then run every detector (Sigma rules, SQL rules, behaviours, the anomaly
model) through one driver (`driver.py`), and record findings."""
