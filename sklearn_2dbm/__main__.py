"""``python -m sklearn_2dbm``: the ``sklearn-2dbm`` command line."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
