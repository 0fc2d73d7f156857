"""Plain Python used by the Dagster definitions and the app; never imports dagster."""
