"""``python -m boltzax`` = the ``boltzax`` command."""

import sys

from .cli import main

sys.exit(main())
