"""Workflow configuration (SPEC 3.1): load, override, validate, fill documented defaults."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from ctdna_resistance.calls import DEFAULT_DETECTION
from ctdna_resistance.errors import InputError
from ctdna_resistance.schemas import validate

DEFAULTS = {
    "treatments": None,
    "panel": "panels/anti_egfr_crc.yaml",
    "genome_build": "GRCh38",
    "outdir": "results",
    "anti_egfr_agents": ["cetuximab", "panitumumab"],
    "detection": DEFAULT_DETECTION,
    "copy_number": {},
}


def with_defaults(config: dict) -> dict:
    merged = copy.deepcopy(DEFAULTS)
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_override(text: str):
    """'key=value' or 'detection.min_depth=500' (value read as YAML) -> (path list, value)."""
    if "=" not in text:
        raise InputError(None, f"--set {text!r} is not key=value", "write e.g. --set outdir=out")
    key, value = text.split("=", 1)
    return key.split("."), yaml.safe_load(value) if value else ""


def load_config(path, overrides=()) -> dict:
    """Read a config YAML, apply overrides, validate against the schema, fill defaults."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "config file not found", "pass --config config/config.yaml")
    with open(path) as handle:
        config = yaml.safe_load(handle) or {}
    for text in overrides:
        keys, value = parse_override(text)
        node = config
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    config = with_defaults(config)
    validate(config, "config", path, fix="see config/README.md for every key")
    return config
