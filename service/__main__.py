"""``python -m service`` is the ``stratus`` command."""

import sys

from service.cli import main

sys.exit(main())
