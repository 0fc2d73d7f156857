"""Alert sensors: emerging issues, new high-urgency items and failed runs."""
