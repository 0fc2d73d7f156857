"""Export files (CSV or JSONL) as a text source, for pilots before iMIS is connected."""

from connectors.files.reader import iter_file_items

__all__ = ["iter_file_items"]
