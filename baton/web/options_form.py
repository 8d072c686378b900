"""The "Deploy with options" dialog's fields: the one form that both deploys
(:func:`baton.web.pages.deploy`) and saves its choices as a profile
(:func:`baton.web.profile_pages.save_profile`), read in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form

from baton.planning import DeployOptions
from baton.planning.profiles import profile_of
from baton.web.dashboard import deploy_options, parse_migrations


@dataclass(frozen=True)
class OptionsForm:
    """What the dialog posted, as typed: blanks mean "use the setting". Nothing is checked
    until a route asks, so that a route answers for what it looks up first."""

    version: str
    strategy: str
    migrations: str
    batch: str

    def options(self) -> DeployOptions:
        """The deploy the dialog asks for."""
        migrations = parse_migrations(self.migrations)
        return deploy_options(self.version, self.strategy, migrations, self.batch)

    def profile(self) -> dict[str, Any]:
        """The choices a profile saved from the dialog keeps: its strategy and migrations
        (never the version, and the batches are not saved from the dashboard)."""
        return profile_of(deploy_options(None, self.strategy, parse_migrations(self.migrations)))


def options_form(
    version: Annotated[str, Form()] = "",
    strategy: Annotated[str, Form()] = "",
    migrations: Annotated[str, Form()] = "",
    batch: Annotated[str, Form()] = "",
) -> OptionsForm:
    return OptionsForm(version, strategy, migrations, batch)


OptionsFormDep = Annotated[OptionsForm, Depends(options_form)]
