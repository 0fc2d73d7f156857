"""Connectors to the systems Member Pulse reads text from: iMIS (REST or SQL) and export files."""
