import sys

from mcgrade.cli import main

sys.exit(main())
