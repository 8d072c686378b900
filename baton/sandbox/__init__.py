"""The sandbox: a real fleet on this machine (sshd per 16 servers, HAProxy, small apps).

Only the defaults live here, so the command line can describe the sandbox without importing it.
"""

from pathlib import Path

DEFAULT_DIRECTORY = Path(".sandbox")
DEFAULT_FIRST_ADDRESS = "127.0.1.1"
