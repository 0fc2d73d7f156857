"""Building blocks of the PII redactor; the public entry point is `orchestration.lib.redaction`."""
