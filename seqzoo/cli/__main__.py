"""`python -m seqzoo.cli`: the `seqzoo` command without its console script."""

import sys

from seqzoo.cli import main

sys.exit(main())
