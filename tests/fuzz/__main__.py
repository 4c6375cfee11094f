"""`python -m tests.fuzz` (what `make fuzz` runs): see campaign.main."""

import sys

from .campaign import main

sys.exit(main())
