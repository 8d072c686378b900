"""``python -m tests.reliability.fast_locks ARGS``: the real ``baton`` command line, with a
lock that goes stale in seconds instead of a minute (``BATON_TEST_STALE_AFTER``) and a
heartbeat to match (``BATON_TEST_HEARTBEAT_EVERY``), so a test can freeze a deploy past the
stale time without waiting minutes."""

import os
import sys

from baton.cli.main import main
from baton.execution import runner
from baton.state import records

records.STALE_AFTER = float(os.environ["BATON_TEST_STALE_AFTER"])
runner.HEARTBEAT_EVERY = float(os.environ["BATON_TEST_HEARTBEAT_EVERY"])
sys.exit(main())
