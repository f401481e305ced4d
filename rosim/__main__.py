"""``python -m rosim``: the same command line as the ``rosim`` script."""

import sys

from rosim.cli import main

if __name__ == "__main__":
    sys.exit(main())
