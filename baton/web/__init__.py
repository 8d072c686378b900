"""The web dashboard: a second front end on the library (``baton serve``)."""

from baton.web.app import create_app
from baton.web.auth import Credentials

__all__ = ["Credentials", "create_app"]
