"""Redaction evaluation (evaluate.py) and throughput benchmark (throughput.py)."""
