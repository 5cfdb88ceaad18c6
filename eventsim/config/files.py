"""The config file on disk: where ``find_config`` looks for it, and how its text is read
(a regular file of at most 1 MB, in UTF-8) before anything parses it."""

from __future__ import annotations

import stat
from pathlib import Path

from .. import yamlpos
from ..errors import ConfigError, ConfigIssue

#: Where ``find_config`` looks, in order, relative to the current folder.
CONFIG_NAMES = (
    Path("eventsim.yaml"),
    Path("config/eventsim.yaml"),
    Path("template.yaml"),
    Path("template.yml"),
)
DEFAULT_CONFIG_PATH = CONFIG_NAMES[1]
#: Larger files are refused before they are read: no config needs a megabyte.
MAX_CONFIG_BYTES = 1024 * 1024


def find_config(cwd: Path | None = None) -> Path:
    """The config to use when none is named: ``eventsim.yaml``, else ``config/eventsim.yaml``,
    else a SAM template, ``template.yaml`` or ``template.yml``.

    Relative to ``cwd`` (the returned path is relative when ``cwd`` is ``None``); a
    ``ConfigError`` names every place when none holds a file.

    Example::

        load_config(find_config())
    """
    for name in CONFIG_NAMES:
        candidate = name if cwd is None else cwd / name
        if candidate.is_file():
            return candidate
    where = cwd if cwd is not None else Path.cwd()
    looked = ", ".join(str(where / name) for name in CONFIG_NAMES)
    raise ConfigError([ConfigIssue(None, None, None, "", f"no config: looked for {looked}")])


def read_text(path: Path) -> str:
    """The text of the file at ``path``: a regular file of at most 1 MB, in UTF-8."""

    def fail(message: str) -> ConfigError:
        return ConfigError([ConfigIssue(str(path), None, None, "", message)])

    too_large = (
        f"over {MAX_CONFIG_BYTES} bytes (1 MB); a config is far smaller: is it the right file?"
    )
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a folder: name the config file (e.g. eventsim.yaml)")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device could block or never end
            raise fail("not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise fail(f"{info.st_size} bytes: {too_large}")
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:  # it grew since stat()
        raise fail(too_large)
    try:
        return yamlpos.decode(data)
    except yamlpos.YamlError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), p.line, p.column, "", p.message) for p in exc.problems]
        ) from None
