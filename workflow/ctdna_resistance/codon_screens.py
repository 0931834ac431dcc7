"""A codon screen's story across platforms (issue 17): a patient followed on ddPCR by a multiplex
screen ("KRAS G12/G13 screen", assay_targets) has that screen as its own codon-level alteration;
a sequencing draw of the same patient measures those codons too, so it counts toward the screen.

At a sequencing draw the screen is

* ``detected`` when sequencing detects a panel allele in the screened codons (reported, or
  tumour-informed from the caller's filtered record or the BAM): its reads and VAF (several
  alleles: reads and VAFs summed, as the screen's probes would sum them; depth the largest);
* ``not_detected`` when sequencing tells the depth at the codons and no allele there passes the
  detection rule: the patient's alleles there that were not detected, the caller's filtered
  records in the codons, and the draw's BAM or coverage file at the panel's hotspot alleles in
  the codons (``screen_sites``: counted with the patient's other sites; reads tested against
  each allele's own site background); the LoD95 is the largest of theirs (the level every one
  of them would have found with probability 0.95);
* otherwise ``not_assessed`` as before (no caller record and no reads at the codons).

Readers know formats and the panel knows codons; this module only joins what the per-draw tables
already say, so the screen's trend can be tested on counts from either platform.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SCREEN_KEY = re.compile(r"^(?P<chrom>[^:]+):(?P<start>\d+)-(?P<end>\d+):(?P<label>\w+)_screen$")
# filter reasons after which a caller's record still tells the depth at the site (tracking)
_INFORMATIVE_REASONS = ("low_alt_reads", "not_significant", "not_pass")


@dataclass(frozen=True)
class ScreenSpan:
    chrom: str
    start: int
    end: int

    def holds(self, chrom: str, pos: int, ref: str) -> bool:
        """Whether an allele at chrom:pos with REF ``ref`` touches the screened codons."""
        last = pos + max(len(ref), 1) - 1
        return chrom == self.chrom and pos <= self.end and last >= self.start


def screen_span(key: str) -> ScreenSpan | None:
    """The codons of a screen key ('12:25245347-25245353:KRAS_12_13_screen'); None otherwise."""
    match = _SCREEN_KEY.match(key)
    if match is None:
        return None
    return ScreenSpan(match["chrom"], int(match["start"]), int(match["end"]))


def _site(key: str) -> tuple[str, int, str] | None:
    if ">" not in key or key.startswith("fusion:"):
        return None
    chrom_pos, change = key.rsplit(":", 1)
    chrom, pos = chrom_pos.rsplit(":", 1)
    return chrom, int(pos), change.split(">")[0]


def screen_sites(draws, panel) -> dict[str, tuple[str, int, str, str]]:
    """The panel's hotspot alleles in the codons of every screen reported in the patient's draws:
    key -> (chrom, pos, ref, alt), for tracking.gather_evidence to count in each draw's BAM or
    read in its coverage file."""
    spans = {screen_span(row["key"]) for draw in draws for row in draw.alterations} - {None}
    sites = {
        f"{spot.chrom}:{spot.pos}:{spot.ref}>{spot.alt}": (spot.chrom, spot.pos, spot.ref, spot.alt)
        for spot in panel.hotspots.values()
        if any(span.holds(spot.chrom, spot.pos, spot.ref) for span in spans)
    }
    return dict(sorted(sites.items()))


def alleles_in_screen(span: ScreenSpan, keys) -> list[str]:
    """The small-variant keys among ``keys`` whose allele lies in the screened codons."""
    return [key for key in keys if (site := _site(key)) is not None and span.holds(*site)]


def observe_at_sequencing(key: str, draw, alleles: Mapping, det: dict, errors) -> dict | None:
    """The screen at one sequencing draw, as the fields of tracking's Observation (status, vaf,
    alt_reads, depth, lod95, p_value, note, background_model), from the draw's alleles in the
    codons (``alleles``: key -> that draw's tracking Observation) and its filtered caller
    records there; None when sequencing says nothing about the codons."""
    span = screen_span(key)
    detected = [o for o in alleles.values() if o.status == "detected" and o.alt_reads is not None]
    if detected:
        names = ", ".join(_allele_name(o) for o in detected)
        alt = sum(o.alt_reads for o in detected)
        depths = [o.depth for o in detected if o.depth]
        lods = [o.lod95 for o in detected if o.lod95 is not None]
        return dict(
            status="detected",
            vaf=sum(o.vaf or 0.0 for o in detected),
            alt_reads=alt,
            depth=max(depths) if depths else None,
            lod95=max(lods) if lods else None,
            p_value=min((o.p_value for o in detected if o.p_value is not None), default=None),
            note=f"sequencing detected {names} in the screened codons",
            background_model=detected[0].background_model,
        )
    absences = [
        (o.lod95, o.depth, _source(o), o.background_model)
        for o in alleles.values()
        if o.status == "not_detected" and o.lod95 is not None
    ]
    read = set()  # hotspot alleles a filtered record already told about
    for row in draw.filtered:
        if row.get("platform", "ngs") not in ("", "ngs") or row["key"] in alleles:
            continue
        if row["reason"] not in _INFORMATIVE_REASONS or not row.get("depth"):
            continue
        if not row.get("chrom") or not span.holds(row["chrom"], int(row["pos"]), row["ref"]):
            continue
        depth, alt = int(row["depth"]), int(row["alt_reads"] or 0)
        model = errors.site(row["chrom"], int(row["pos"]), row["ref"], row["alt"])
        rule = {"alpha": det["alpha"], "min_alt_reads": det["min_alt_reads"]}
        if depth < det["min_depth"]:
            continue
        if model.supported(alt, depth, **rule):
            # a change at the screened codons whose reads pass the rule: the screen's alteration
            # is known in this patient (tumour-informed, SPEC 5.2)
            return dict(
                status="detected",
                vaf=alt / depth,
                alt_reads=alt,
                depth=depth,
                lod95=model.lod95(depth, **rule),
                p_value=model.p_value(alt, depth),
                note=(
                    f"sequencing: the caller filtered {_row_name(row)} ({row['reason']}) but its "
                    "reads pass the detection rule at the screened codons"
                ),
                background_model=model.model,
            )
        source = f"the caller's record of {_row_name(row)}"
        absences.append((model.lod95(depth, **rule), depth, source, model.model))
        read.add(row["key"])
    for site_key in alleles_in_screen(span, draw.evidence):
        if site_key in alleles or site_key in read:
            continue
        evidence = draw.evidence[site_key]
        if not evidence.depth or evidence.depth < det["min_depth"]:
            continue
        chrom, pos, change = site_key.split(":")
        ref, alt_base = change.split(">")
        model = errors.site(chrom, int(pos), ref, alt_base)
        rule = {"alpha": det["alpha"], "min_alt_reads": det["min_alt_reads"]}
        alt = evidence.alt_reads
        if alt is not None and model.supported(alt, evidence.depth, **rule):
            return dict(
                status="detected",
                vaf=alt / evidence.depth,
                alt_reads=alt,
                depth=evidence.depth,
                lod95=model.lod95(evidence.depth, **rule),
                p_value=model.p_value(alt, evidence.depth),
                note=(
                    f"sequencing: {site_key} counted in the {evidence.source} at the screened "
                    "codons passes the detection rule"
                ),
                background_model=model.model,
            )
        lod = model.lod95(evidence.depth, **rule)
        absences.append((lod, evidence.depth, f"the {evidence.source}", model.model))
    if not absences:
        return None
    lod, _, _, model_name = max(absences, key=lambda a: (a[0], a[2]))
    depths = [a[1] for a in absences if a[1]]
    seen = ", ".join(sorted({a[2] for a in absences}))
    return dict(
        status="not_detected",
        depth=max(depths) if depths else None,
        lod95=lod,
        note=(
            f"sequencing: no change detected at the screened codons (read from {seen}; the "
            "LoD95 is the largest over the codons' alleles)"
        ),
        background_model=model_name,
    )


def _source(observation) -> str:
    """Where sequencing's word on a tracked allele came from: its BAM/coverage or its record."""
    marker = "re-genotyped from the "
    if marker in observation.note:
        return "the " + observation.note.split(marker, 1)[1].split(";")[0]
    return f"the caller's record of {_allele_name(observation)}"


def _allele_name(observation) -> str:
    row = observation.row or {}
    if row.get("gene") and row.get("alteration"):
        return f"{row['gene']} {row['alteration']}"
    return observation.key


def _row_name(row: Mapping) -> str:
    if row.get("gene") and row.get("alteration"):
        return f"{row['gene']} {row['alteration']}"
    return row["key"]
