"""Parse manifest text into a :class:`~baton.config.model.Manifest`.

YAML is composed into nodes first so that every key path keeps its line number
(:mod:`baton.config.composition`); pydantic then validates, and each error is turned into one
line naming file, line and key path (:mod:`baton.config.messages`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from baton._exceptions import Location, ManifestError
from baton.config import files
from baton.config.composition import compose, dotted, line_of
from baton.config.messages import first_error
from baton.config.model import Manifest
from baton.config.validation import validate
from baton.config.values import KeyPath


def parse_manifest(text: str, file: str = "baton.yml") -> Manifest:
    """Parse manifest text; ``file`` is the name used in error messages."""
    data, lines = compose(text, file)
    if not isinstance(data, dict):
        raise ManifestError(
            Location(file, 1, ""), "should be a mapping with application, servers, deploy"
        )
    try:
        return validate(Manifest, {**data, "source": Path(file)})
    except ValidationError as exc:
        raise first_error(exc, file, lines) from None


def locate(manifest: Manifest, path: KeyPath) -> Location:
    """Where ``path`` is in the manifest's file; without a line when the file cannot be read."""
    file = str(manifest.source)
    try:
        _, lines = compose(files.text(files.read(Path(file)), file), file)
    except (OSError, ManifestError):
        return Location(file, None, dotted(path))
    return Location(file, line_of(path, lines), dotted(path))
