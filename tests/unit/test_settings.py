"""Settings read from the environment (services/common/settings.py): each
field from its upper-cased variable, parsed to its type when the settings are
made; a bad or missing value is refused by name, before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from services.common.settings import EnvSettings, ServiceSettings, SettingsError, setting


class _Example(EnvSettings):
    port: int
    ratio: float = setting(1.0, gt=0, le=10)
    enabled: bool = True
    name: str = "omni"
    home: Path = Path(".omni")
    limit: int | None = None
    provider: Literal["dev", "live"] = "dev"
    origins: list[str] = []


class _Narrower(_Example):
    port: int = 9000
    name: str = "narrow"


def test_each_field_comes_from_its_variable_parsed_to_its_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in {
        "PORT": " 50052 ",
        "RATIO": "2.5",
        "ENABLED": "off",
        "NAME": "till",
        "HOME": "/srv/omni",
        "LIMIT": "7",
        "PROVIDER": "live",
        "ORIGINS": "http://a.test, http://b.test",
    }.items():
        monkeypatch.setenv(variable, value)
    read = _Example()
    assert (read.port, read.ratio, read.enabled, read.name) == (50052, 2.5, False, "till")
    assert (read.home, read.limit, read.provider) == (Path("/srv/omni"), 7, "live")
    assert read.origins == ["http://a.test", "http://b.test"]
    monkeypatch.setenv("ORIGINS", '["http://c.test"]')
    monkeypatch.setenv("LIMIT", "")
    again = _Example()
    assert again.origins == ["http://c.test"]
    assert again.limit is None


def test_defaults_hold_when_nothing_is_set_and_keywords_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("RATIO", "ENABLED", "NAME", "HOME", "LIMIT", "PROVIDER", "ORIGINS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PORT", "1")
    read = _Example(port="2", name="given")
    assert (read.port, read.name, read.ratio, read.enabled, read.limit) == (
        2,
        "given",
        1.0,
        True,
        None,
    )
    # A list default is each instance's own.
    read.origins.append("x")
    assert _Example().origins == []
    # A subclass's default replaces the base's; its bounds stay.
    assert (_Narrower().port, _Narrower().name) == (1, "narrow")
    monkeypatch.delenv("PORT")
    assert _Narrower().port == 9000
    with pytest.raises(SettingsError, match="RATIO"):
        _Narrower(ratio=0)


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("PORT", "eighty", "whole number"),
        ("PORT", "1.5", "whole number"),
        ("RATIO", "0", "greater than 0"),
        ("RATIO", "11", "at most 10"),
        ("RATIO", "lots", "a number"),
        ("ENABLED", "perhaps", "true or false"),
        ("PROVIDER", "stripe", "one of 'dev', 'live'"),
    ],
)
def test_a_bad_value_is_refused_by_its_variables_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, why: str
) -> None:
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable) as refused:
        _Example()
    assert why in str(refused.value)
    assert repr(value) in str(refused.value)


def test_every_problem_is_named_at_once_and_a_missing_one_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("DATABASE_URL", "GRPC_PORT", "SHUTDOWN_GRACE_SECONDS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "soon")
    with pytest.raises(SettingsError) as refused:
        ServiceSettings()
    message = str(refused.value)
    assert "DATABASE_URL (database_url) is required" in message
    assert "GRPC_PORT (grpc_port) is required" in message
    assert "SHUTDOWN_GRACE_SECONDS" in message


def test_an_unknown_keyword_is_a_mistake_not_ignored() -> None:
    with pytest.raises(TypeError, match="no setting prot"):
        _Example(port=1, prot=2)


def test_rules_across_settings_are_checked_after_every_one_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Window(EnvSettings):
        opens: int = 1
        closes: int = 2

        def problems(self) -> list[str]:
            return [] if self.closes > self.opens else ["CLOSES must be after OPENS"]

    assert Window().closes == 2
    monkeypatch.setenv("OPENS", "5")
    with pytest.raises(SettingsError, match="CLOSES must be after OPENS"):
        Window()


def test_the_representation_names_settings_never_their_values() -> None:
    shown = repr(_Example(port=1, name="s3cr3t"))
    assert "s3cr3t" not in shown
    assert "port" in shown and "name" in shown


@pytest.mark.parametrize(
    "process",
    [
        "services.orders.main",
        "services.inventory.main",
        "services.payments.main",
        "services.customers.main",
        "services.codec_server",
    ],
)
def test_a_service_process_does_not_load_pydantic(process: str) -> None:
    # ~10-15 MiB of every process's resident memory (docs/capacity.md). The
    # worker is not listed: temporalio's sandbox imports pydantic when installed.
    code = f"import sys, {process}; print(sorted(m for m in sys.modules if 'pydantic' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
