"""``python -m dongxi`` runs the command line."""

import sys

from dongxi.cli import main

sys.exit(main())
