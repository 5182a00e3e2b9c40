"""``python -m bertkit.cli`` is the ``bertkit`` command."""

import sys

from bertkit.cli.main import main

sys.exit(main())
