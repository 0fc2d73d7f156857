"""End-to-end scale benchmark: the whole pipeline at N items, then one incremental day."""
