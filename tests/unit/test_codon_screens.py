"""A codon screen's key and codons (issue 17 item 4); the story through snakemake is
tests/workflow/test_assay_workflow.py::test_sequencing_draws_count_toward_a_ddpcr_codon_screen."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ctdna_resistance.assay_targets import resolve_target
from ctdna_resistance.codon_screens import alleles_in_screen, screen_sites, screen_span
from ctdna_resistance.panel import load_panel

PANEL = load_panel(Path(__file__).resolve().parents[2] / "panels" / "anti_egfr_crc.yaml", "GRCh38")


def test_the_screen_key_the_assay_gives_names_the_codons_sequencing_alleles_fall_in():
    key = resolve_target("KRAS G12/G13 screen", PANEL).key
    span = screen_span(key)
    assert span is not None
    inside = [resolve_target(name, PANEL).key for name in ("KRAS G12D", "KRAS G13D", "KRAS G12V")]
    outside = [resolve_target(name, PANEL).key for name in ("KRAS A146T", "NRAS G12D")]
    assert alleles_in_screen(span, inside + outside + [key, "12:amplification"]) == inside
    # an MNV that starts before codon 12 but reaches into it is in the screen
    assert span.holds("12", span.start - 1, "CC") and not span.holds("12", span.start - 2, "CC")
    assert screen_span("12:25245350:C>T") is None and screen_span("fusion:EML4-ALK") is None


def test_the_sites_counted_for_a_screen_are_the_panels_alleles_in_its_codons():
    key = resolve_target("KRAS G12/G13 screen", PANEL).key
    draws = [SimpleNamespace(alterations=[{"key": key}]), SimpleNamespace(alterations=[])]
    sites = screen_sites(draws, PANEL)
    proteins = {PANEL.hotspots[site].protein for site in sites.values()}
    assert proteins == {s.protein for s in PANEL.hotspots.values()
                        if s.gene == "KRAS" and s.protein[3:5] in ("12", "13")}  # fmt: skip
    assert resolve_target("KRAS G13D", PANEL).key in sites
    assert screen_sites([SimpleNamespace(alterations=[{"key": "12:25245350:C>T"}])], PANEL) == {}
