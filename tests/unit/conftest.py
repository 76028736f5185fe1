"""The unit layer: pure functions and the project's own files, no server, no database file, no
dbt run. The whole layer runs in seconds (`bash scripts/test.sh --unit`)."""
