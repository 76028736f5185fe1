"""DAME EPC extractor: EPC API pages → gzip NDJSON in the bucket → raw `*_raw_json` tables."""

__version__ = "0.1.0"
