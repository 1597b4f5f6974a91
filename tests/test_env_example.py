"""`.env.example` documents every setting, with placeholders only."""

from __future__ import annotations

from pathlib import Path

from santap.config import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def _documented() -> set[str]:
    names = set()
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip().lstrip("# ")
        if "=" in line and line.split("=", 1)[0].isupper():
            names.add(line.split("=", 1)[0])
    return names


def test_every_setting_is_documented() -> None:
    settings = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert settings - _documented() == set()


def test_the_example_loads_and_holds_no_real_key() -> None:
    settings = Settings(_env_file=str(EXAMPLE))  # type: ignore[call-arg]
    key = settings.midtrans_server_key
    assert key is not None
    assert set(key.get_secret_value().removeprefix("SB-Mid-server-")) == {"X"}
