"""`python -m weir_codeserver` is `weir-codeserver`."""

import sys

from weir_codeserver.cli import main

sys.exit(main())
