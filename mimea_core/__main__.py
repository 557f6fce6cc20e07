import sys

from mimea_core.cli import main

sys.exit(main())
