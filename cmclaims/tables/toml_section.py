"""Strict reading of a TOML table: typed getters, and unknown keys are errors.

A misspelt key in a profile (`daily_unit = 16`) must fail loudly at load, not
silently drop a limit: every getter marks its key as used, and `finish()`
reports what was left over.
"""

from __future__ import annotations

from typing import Any

from cmclaims.errors import ConfigError


class Section:
    """One TOML table being read, named by `where` in every error message."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a table, found {type(data).__name__}")
        self._data = data
        self._used: set[str] = set()
        self.where = where

    def _get(self, key: str, default: Any) -> Any:
        self._used.add(key)
        return self._data.get(key, default)

    def has(self, key: str) -> bool:
        """Whether the table has this key."""
        return key in self._data

    def text(self, key: str, default: str | None = None) -> str:
        """A text value."""
        value = self._get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.where}: '{key}' must be text")
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        """A whole number of 0 or more, or the default."""
        value = self._get(key, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ConfigError(f"{self.where}: '{key}' must be a whole number of 0 or more")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        """true or false."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}: '{key}' must be true or false")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of text values (empty when absent)."""
        value = self._get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.where}: '{key}' must be a list of text values")
        return tuple(value)

    def span(self, key: str) -> tuple[int, int] | None:
        """An inclusive [low, high] pair of whole numbers, such as an age band."""
        value = self._get(key, None)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or value[0] > value[1]
        ):
            raise ConfigError(f"{self.where}: '{key}' must be [low, high] with low <= high")
        return (value[0], value[1])

    def section(self, key: str) -> Section | None:
        """A sub-table, or None when absent."""
        value = self._get(key, None)
        return None if value is None else Section(value, f"{self.where} [{key}]")

    def sections(self, key: str) -> list[Section]:
        """A list of tables (an array of tables, or a list of inline tables)."""
        value = self._get(key, [])
        if not isinstance(value, list):
            raise ConfigError(f"{self.where}: '{key}' must be a list of tables")
        return [Section(item, f"{self.where} {key}[{i + 1}]") for i, item in enumerate(value)]

    def names(self) -> list[str]:
        """Every key of the table."""
        return list(self._data)

    def finish(self) -> None:
        """Fail on any key no getter asked for: a misspelt key must not be ignored."""
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise ConfigError(f"{self.where}: unknown key(s) {', '.join(unknown)}")
