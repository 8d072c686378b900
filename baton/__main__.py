import sys

from baton.cli.main import main

sys.exit(main())
