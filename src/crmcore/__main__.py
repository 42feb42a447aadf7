"""``python -m crmcore``: the command line."""

import sys

from crmcore.cli import main

sys.exit(main())
