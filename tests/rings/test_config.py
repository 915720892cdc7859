"""Ring configuration: defaults in code, overridable from a TOML or JSON file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudgraph.settings import Settings
from graph.schema import Rel
from rings.config import DEFAULT_WEIGHTS, RingConfigError, load_config


def test_a_toml_file_overrides_one_weight_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "rings.toml"
    path.write_text("strong_threshold = 0.5\n[weights]\nSUBMITTED_FROM_IP = 0.1\n"
                    "[score]\nburst = 0\n")
    config = load_config(path)
    assert config.weight(Rel.SUBMITTED_FROM_IP) == 0.1
    assert config.weight(Rel.SUBMITTED_FROM_DEVICE) == DEFAULT_WEIGHTS[Rel.SUBMITTED_FROM_DEVICE]
    assert config.strong_threshold == 0.5 and config.score.burst == 0


def test_json_works_too_and_unknown_names_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "rings.json"
    good.write_text('{"weights": {"HOME_ADDRESS": 0.9}, "seed": 11}')
    assert load_config(good).weight(Rel.HOME_ADDRESS) == 0.9
    bad = tmp_path / "bad.json"
    bad.write_text('{"weights": {"SHOE_SIZE": 1.0}}')
    with pytest.raises(RingConfigError, match="SHOE_SIZE"):
        load_config(bad)
    typo = tmp_path / "typo.json"
    typo.write_text('{"strong_treshold": 1.0}')
    with pytest.raises(RingConfigError, match="strong_treshold"):
        load_config(typo)


def test_the_settings_field_names_the_file(tmp_path: Path) -> None:
    settings = Settings(FRAUDGRAPH_RING_CONFIG=str(tmp_path / "x.toml"))
    assert settings.ring_config_file == tmp_path / "x.toml"
    assert load_config(None).hub_cap == 100


def test_the_example_file_states_the_defaults() -> None:
    example = Path(__file__).resolve().parents[2] / "rings" / "config.example.toml"
    assert load_config(example) == load_config(None)
