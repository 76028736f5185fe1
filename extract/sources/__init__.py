"""The API sources, one folder each (client, dlt resources, plan of work, tables, bulk files),
all behind the `Source` protocol (`base.py`) and listed once in `registry.py`. No source imports
another."""
