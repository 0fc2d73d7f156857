"""Direct-database sources (`kind: sql`) for on-premise iMIS: SQLAlchemy, no Dagster."""

from .reader import SqlSourceError, engine_for, iter_sql_items

__all__ = ["SqlSourceError", "engine_for", "iter_sql_items"]
