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
    "caller": None,
    "anti_egfr_agents": ["cetuximab", "panitumumab"],
    "detection": DEFAULT_DETECTION,
    "tumor_fraction": {"max_disagreement": 0.1},
    "reference": None,
    "background": None,
    "normals": None,
    "reference_fasta": None,
    "background_fit": {},
    "background_bed": None,
    "ctdna_level": {},
    "genotyping": {},
    "copy_number": {},
    "targeted_assay": {},  # ddPCR/BEAMing: partition_stats.DEFAULT_TARGETED_ASSAY fills it
}


# The demo's patient data (config/demo.yaml, beside the default config/config.yaml): used only when
# a run names no sample sheet, so `snakemake --cores 2` runs the demo while a run given its own
# `samples` gets none of the demo's treatments, normals or reference (issue 18).
DEMO_KEYS = ("samples", "treatments", "clinical", "normals", "reference_fasta")
# Keys of the default and demo configs that name a file of the repository.
REPO_PATH_KEYS = ("panel", *DEMO_KEYS)


def demo_file(default_config) -> Path:
    """Where the demo's keys live: demo.yaml beside the default config."""
    return Path(default_config).parent / "demo.yaml"


def with_demo(config: dict, default_config) -> dict:
    """``config`` with the demo's keys filled in when it names no sample sheet, else as is."""
    if config.get("samples"):
        return config
    path = demo_file(default_config)
    if not path.is_file():
        return config
    demo = _read_yaml(path, "demo config", "fix the YAML syntax at that line") or {}
    filled = dict(config)
    for key, value in demo.items():
        if filled.get(key) in (None, ""):
            filled[key] = value
    return filled


def resolve_repo_paths(config: dict, repo) -> dict:
    """The default/demo configs' repository files made findable from any working directory.

    A value that is still the one config/config.yaml or config/demo.yaml gives (a path relative to
    the repository) and is not found from the working directory is taken from the repository;
    a user's own paths stay relative to where the user runs.
    """
    repo = Path(repo)
    shipped: dict = {}
    for name in ("config.yaml", "demo.yaml"):
        path = repo / "config" / name
        if path.is_file():
            shipped.update(_read_yaml(path, "config", "fix the YAML syntax at that line") or {})
    resolved = dict(config)
    for key in REPO_PATH_KEYS:
        value = resolved.get(key)
        if not isinstance(value, str) or value != shipped.get(key) or Path(value).is_absolute():
            continue
        if not Path(value).exists() and (repo / value).exists():
            resolved[key] = str(repo / value)
    return resolved


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
    try:
        parsed = yaml.safe_load(value) if value else ""
    except yaml.YAMLError:
        raise InputError(
            None,
            f"--set {text!r}: the value is not valid YAML",
            "quote it, e.g. --set 'outdir=\"my out\"'",
        ) from None
    return key.split("."), parsed


def _read_yaml(path: Path, what: str, fix: str):
    """A YAML file as Python data; InputError (with the line) for bytes or syntax YAML refuses."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise InputError(
            path, f"{what} is not UTF-8 text", "save it as UTF-8", record=line
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InputError(
            path,
            f"{what} is not valid YAML ({problem})",
            fix,
            record=None if mark is None else mark.line + 1,
        ) from None


def validate_config(config: dict, path) -> dict:
    """Fill defaults and validate a config mapping against the schema; InputError naming ``path``.

    Also what `workflow/rules/common.smk` can call, so Snakemake refuses a bad config with the
    same one-line message as the command line.
    """
    if not isinstance(config, dict):
        raise InputError(
            path,
            f"the config is a YAML {type(config).__name__}, not a mapping of keys",
            "write one `key: value` per line (see config/README.md)",
        )
    config = with_defaults(config)
    validate(config, "config", path, fix="see config/README.md for every key")
    return config


def load_config(path, overrides=()) -> dict:
    """Read a config YAML, apply overrides, validate against the schema, fill defaults."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "config file not found", "pass --config config/config.yaml")
    config = _read_yaml(path, "config", "fix the YAML syntax at that line")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        return validate_config(config, path)
    config = with_demo(apply_overrides(config, overrides, path), path)
    return validate_config(config, path)


def apply_overrides(config: dict, overrides, path=None) -> dict:
    """``config`` with each 'key=value' / 'a.b=value' override set (in place, and returned)."""
    for text in overrides:
        keys, value = parse_override(text)
        node = config
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise InputError(
                    path, f"--set {text!r}: {key} is not a mapping", "set a leaf key instead"
                )
        node[keys[-1]] = value
    return config
