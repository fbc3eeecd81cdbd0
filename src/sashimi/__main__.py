"""`python -m sashimi` = the `sashimi` command (used by `sashimi ablate` to run its child commands)."""

import sys

from sashimi.cli import main

sys.exit(main())
