"""``python -m nx_gradopt``: the nx-gradopt command."""

import sys

from .cli import main

sys.exit(main())
