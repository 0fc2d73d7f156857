"""Write-back to iMIS: the items snapshot (pool duckdb) and the iMIS writes (pool imis)."""
