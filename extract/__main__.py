"""`python -m extract`: fetch EPC certificates (and recommendations) into the bucket and the raw
warehouse tables (extract/cli.py)."""

import sys

from extract.cli import main

if __name__ == "__main__":
    sys.exit(main())
