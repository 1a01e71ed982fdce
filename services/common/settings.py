"""Typed settings read only from the environment, with local defaults.

A field `grpc_port: int` is read from GRPC_PORT (a keyword argument wins, for
tests) and parsed to its annotated type when the settings are made, so a bad
value stops the process at start with the variable's name, never later.

Why not pydantic-settings: it put pydantic's model machinery into every
service process to read a few scalars, ~15 MiB of each one's resident memory
(measured: docs/capacity.md, footprint); the gateway keeps pydantic for
FastAPI, nothing else needs it.
"""

from __future__ import annotations

import json
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class SettingsError(ValueError):
    """Every setting that is missing or cannot be read, by variable name."""


@dataclass(frozen=True)
class _Bounded:
    default: Any
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def problem(self, value: float) -> str | None:
        for bound, holds, words in (
            (self.gt, lambda b: value > b, "greater than"),
            (self.ge, lambda b: value >= b, "at least"),
            (self.lt, lambda b: value < b, "less than"),
            (self.le, lambda b: value <= b, "at most"),
        ):
            if bound is not None and not holds(bound):
                return f"must be {words} {bound:g}"
        return None


def setting(
    default: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Any:
    """A default with bounds on a numeric setting (`x: float = setting(1.0, gt=0)`)."""
    return _Bounded(default, gt, ge, lt, le)


_MISSING = object()


@dataclass(frozen=True)
class _Field:
    name: str
    kind: Any
    default: Any
    bounds: _Bounded | None


def _parse(kind: Any, value: Any) -> Any:
    """`value` (an environment string, or a keyword argument) as `kind`."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None or value == "":
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _parse(inner, value)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"must be one of {', '.join(map(repr, args))}")
        return value
    if origin is list:
        (item,) = args
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
            value = [v.strip() if isinstance(v, str) else v for v in value]
            value = [v for v in value if v != ""]
        return [_parse(item, v) for v in value]
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError("must be true or false")
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number")
        try:
            return int(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number") from None
    if kind is Path:
        return Path(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value
    raise TypeError(f"settings cannot hold {kind!r}")


class EnvSettings:
    """A process's settings: subclass it and annotate the fields."""

    _fields: ClassVar[dict[str, _Field]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, _Field] = {}
        for name, kind in typing.get_type_hints(cls).items():
            if name.startswith("_") or typing.get_origin(kind) is ClassVar:
                continue
            default = getattr(cls, name, _MISSING)
            bounds = default if isinstance(default, _Bounded) else None
            if bounds is not None:
                default = bounds.default
                setattr(cls, name, default)
            inherited = cls._fields.get(name)
            if bounds is None and inherited is not None and default is inherited.default:
                bounds = inherited.bounds
            fields[name] = _Field(name, kind, default, bounds)
        cls._fields = fields

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(self._fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        problems: list[str] = []
        for field in self._fields.values():
            variable = field.name.upper()
            if field.name in values:
                raw = values[field.name]
            elif variable in os.environ:
                raw = os.environ[variable]
            elif field.default is not _MISSING:
                default = field.default
                # A list default is each instance's own.
                object.__setattr__(
                    self, field.name, list(default) if isinstance(default, list) else default
                )
                continue
            else:
                problems.append(f"{variable} ({field.name}) is required")
                continue
            try:
                value = _parse(field.kind, raw)
            except ValueError as error:
                problems.append(f"{variable} ({field.name}) {error}: {raw!r}")
                continue
            problem = field.bounds.problem(value) if field.bounds and value is not None else None
            if problem:
                problems.append(f"{variable} ({field.name}) {problem}: {raw!r}")
                continue
            object.__setattr__(self, field.name, value)
        if not problems:
            problems = self.problems()
        if problems:
            raise SettingsError(f"{type(self).__name__}: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Rules across settings, checked once every one is read; none by default."""
        return []

    def __repr__(self) -> str:
        # Names only: some settings are secrets.
        return f"{type(self).__name__}({', '.join(self._fields)})"


class ServiceSettings(EnvSettings):
    """What every gRPC service process needs; services extend it."""

    database_url: str
    grpc_host: str = "127.0.0.1"
    grpc_port: int
    # Shorter than the pod's terminationGracePeriodSeconds.
    shutdown_grace_seconds: float = 10.0
    log_level: str = "INFO"
    # Unset: no Prometheus endpoint (tests); `omni up` and Kubernetes set it.
    metrics_port: int | None = None
    # With TLS on (OMNI_TLS_*), health alone is also served in plaintext here:
    # the kubelet's gRPC probes cannot speak TLS. Unset: no such port.
    health_port: int | None = None
    # Readiness turns NOT_SERVING while the database does not answer.
    db_check_interval_seconds: float = 5.0
    db_check_timeout_seconds: float = 2.0
