"""Per-patient tracking across draws (SPEC 5.2, 5.5): status and trend of every alteration.

This stage consumes only the per-sample tables written by ``calls`` (alterations.tsv,
filtered.tsv, accounting.json) and the sample sheet's dates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ctdna_resistance.background import FLAGS, ErrorModel
from ctdna_resistance.calls import (
    DEFAULT_DETECTION,
    MAX_CLONE_MARKERS,
    detection_settings,
    germline_like,
    marker_key,
    marker_rank,
)
from ctdna_resistance.codon_screens import alleles_in_screen, observe_at_sequencing, screen_span
from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.structural_absence import Detection, copy_number_absence, fusion_absence
from ctdna_resistance.tables import read_tsv, write_tsv
from ctdna_resistance.trends import Draw as TrendDraw
from ctdna_resistance.trends import classify_trends

TIMELINE_COLUMNS = [
    "patient",
    "key",
    "gene",
    "alteration",
    "sample",
    "timepoint",
    "collection_date",
    "days_since_baseline",
    "platform",
    "status",
    "vaf",
    "alt_reads",
    "depth",
    "lod95",
    "background_model",
    "copy_number",
    "trend",
    "p_value",
    "test",
    "trend_reason",
    "detection_p_value",
    "clone",
    "first_seen",
    "note",
]
# Filter reasons after which the caller's record still tells the depth at an undetected site.
_DEPTH_INFORMATIVE = {"low_alt_reads", "not_significant", "not_pass", *FLAGS}


@dataclass
class DrawData:
    """One draw's per-sample outputs, as read back from disk."""

    sample: Sample
    alterations: list[dict]
    filtered: list[dict]
    accounting: dict
    # Tumour-informed evidence at the patient's small-variant sites: key -> SiteEvidence
    evidence: dict = field(default_factory=dict)

    @classmethod
    def read(cls, sample: Sample, alterations, filtered, accounting) -> DrawData:
        with open(accounting) as handle:
            acct = json.load(handle)
        return cls(sample, read_tsv(alterations), read_tsv(filtered), acct)


@dataclass
class Observation:
    key: str
    sample: Sample
    status: str
    vaf: float | None = None
    alt_reads: int | None = None
    depth: int | None = None
    lod95: float | None = None
    p_value: float | None = None
    copy_number: float | None = None
    trend: str = ""
    trend_p_value: float | None = None
    trend_test: str | None = None
    trend_reason: str = ""
    trend_since: str = ""  # the draw the trend label is relative to (trends.TrendCall.since)
    clone: str | None = None
    note: str = ""
    row: dict = field(default_factory=dict)
    background_model: str = ""  # site / context / scalar for small variants (background.py)
    # copy number, fusions: not_detected because the call's rule would have fired (no LoD95)
    absence_by_rule: bool = False
    platform: str = "ngs"  # what measured it at this draw: ngs, ddpcr, beaming (issue 17)


@dataclass(frozen=True)
class SiteEvidence:
    """Reads at a known site of one draw, from its BAM (depth and alt) or coverage (depth only)."""

    depth: int | None
    alt_reads: int | None
    source: str  # 'bam' or 'coverage'
    depth_fwd: int | None = None  # by read strand, from the BAM (strand-aware test)
    alt_fwd: int | None = None


SMALL_VARIANT_TYPES = ("snv", "mnv", "insertion", "deletion", "indel")


@dataclass(frozen=True)
class MarkerSite:
    """A somatic small variant outside the panel's alterations, used to trace clones."""

    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str  # from the caller's annotation; '' without one

    @property
    def label(self) -> str:
        """Readable and stable: 'FBXW7 4:152477337 C>G', or '4:152477337 C>G' without a gene."""
        site = f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"
        return f"{self.gene} {site}" if self.gene else site


def small_variant_rows(draw: DrawData) -> dict[str, dict]:
    """The draw's filtered.tsv rows of VCF alleles with counts, by minimal-allele key."""
    rows = {}
    for row in draw.filtered:
        if row.get("ref") and row.get("alt") and row.get("reason") != "unreadable_record":
            rows.setdefault(marker_key(row["chrom"], row["pos"], row["ref"], row["alt"]), row)
    return rows


def clone_marker_sites(draws: list[DrawData]) -> dict[str, MarkerSite]:
    """The patient's clone markers (SPEC 5.6), sorted by key, at most MAX_CLONE_MARKERS.

    A marker is a small variant that calls.py counted as somatic in at least one draw (PASS,
    depth and alt reads above the detection minimums, not in the matched normal, VAF outside the
    germline band: accounting ``somatic_markers``) and that is not a panel alteration. A site whose
    VAF is germline-like in any draw with enough depth is left out: one somatic-looking draw of a
    germline SNP must not make it a clone."""
    panel_keys = {row["key"] for draw in draws for row in draw.alterations}
    found: dict[str, str] = {}
    for draw in draws:
        for key, gene in (draw.accounting.get("somatic_markers") or {}).items():
            if key not in panel_keys and not found.get(key):
                found[key] = gene
    if not found:
        return {}
    for draw in draws:
        det = {**DEFAULT_DETECTION, **(draw.accounting.get("detection") or {})}
        for key, row in small_variant_rows(draw).items():
            depth, vaf = _num(row["depth"], int), _num(row["vaf"])
            enough = depth is not None and depth >= det["min_depth"]
            if key in found and enough and germline_like(vaf, det["germline_vaf_band"]):
                del found[key]
    keys = sorted(sorted(found, key=marker_rank)[:MAX_CLONE_MARKERS])
    sites = {}
    for key in keys:
        chrom_pos, change = key.rsplit(":", 1)
        chrom, pos = chrom_pos.rsplit(":", 1)
        ref, alt = change.split(">")
        sites[key] = MarkerSite(chrom, int(pos), ref, alt, found[key])
    return sites


def marker_counts(draw: DrawData, key: str, rows: dict[str, dict]) -> tuple[int, int]:
    """(alt reads, depth) of a marker at one draw: the caller's record (PASS or filtered) when
    there is one, else the reads counted in the draw's BAM, else the coverage file's depth with
    no alt read (the caller wrote nothing there), else (0, 0): an uninformative draw.

    ``rows`` is small_variant_rows(draw)."""
    row = rows.get(key)
    if row is not None:
        depth, alt = _num(row["depth"], int), _num(row["alt_reads"], int)
        if depth and alt is not None and 0 <= alt <= depth:
            return alt, depth
    evidence = draw.evidence.get(key)
    if evidence is not None and evidence.depth:
        alt = evidence.alt_reads or 0
        return (alt, evidence.depth) if alt <= evidence.depth else (0, 0)
    return 0, 0


def patient_sites(draws: list[DrawData]) -> dict[str, tuple[str, int, str, str]]:
    """Every small variant detected in any of the patient's draws: key -> (chrom, pos, ref, alt)."""
    sites = {}
    for draw in draws:
        for row in draw.alterations:
            if row["type"] in SMALL_VARIANT_TYPES:
                sites[row["key"]] = (row["chrom"], int(row["pos"]), row["ref"], row["alt"])
    return dict(sorted(sites.items()))


def gather_evidence(
    draws: list[DrawData],
    markers: dict[str, MarkerSite],
    genotype_settings=None,
    reference=None,
    build=None,
    screen_sites: dict | None = None,
):
    """Re-genotype every draw with a BAM at every site seen in the patient (SPEC 5.2), or read
    the depth there from the draw's coverage file; sets ``draw.evidence``.

    The sites are the panel small variants detected in any draw, the ``screen_sites``
    (codon_screens.screen_sites) and, when there are any, the patient's clone ``markers``
    (clone_marker_sites(draws)). The REF alleles of the panel sites
    are checked against ``reference``; those of the markers are not (that check already tells
    whether the BAM and the calls share a reference, and a partial reference such as the demo's
    holds only the panel sites), except in a CRAM, which needs the reference to be read at all."""
    from ctdna_resistance.genotype import GenotypeSettings, count_alleles
    from ctdna_resistance.io.coverage import read_depths

    # and the panel's alleles in the codons of a screen followed by an assay (codon_screens)
    sites = {**(screen_sites or {}), **patient_sites(draws)}
    if not sites and not markers:
        return  # nothing of the patient's to count
    marker_sites = {
        key: (marker.chrom, marker.pos, marker.ref, marker.alt)
        for key, marker in markers.items()
        if key not in sites
    }
    for draw in draws:
        if draw.sample.bam is not None:
            evidence = {}
            cram = str(draw.sample.bam).lower().endswith(".cram")
            for group, checked in ((sites, True), (marker_sites, cram)):
                if not group:
                    continue
                counts = count_alleles(
                    draw.sample.bam,
                    list(group.values()),
                    settings=genotype_settings or GenotypeSettings(),
                    reference=reference if checked else None,
                    expected_build=build,
                    # another draw's BAM listed by mistake is refused, not counted (issue 7)
                    expected_samples=tuple(
                        name for name in (draw.sample.sample, draw.sample.vcf_sample) if name
                    ),
                )
                evidence.update(
                    (
                        key,
                        SiteEvidence(
                            count.depth, count.alt_reads, "bam", count.depth_fwd, count.alt_fwd
                        ),
                    )
                    for key, count in zip(group, counts, strict=True)
                )
            draw.evidence = dict(sorted(evidence.items()))
        elif draw.sample.coverage is not None:
            every = sites | marker_sites
            depths = read_depths(draw.sample.coverage, [(c, p) for c, p, _, _ in every.values()])
            draw.evidence = {
                key: SiteEvidence(depths.get((site[0], site[1])), None, "coverage")
                for key, site in sorted(every.items())
            }


def _num(value, kind=float):
    return None if value in (None, "") else kind(value)


def first_alteration_rows(draws: list[DrawData]) -> dict[str, dict]:
    """Each alteration reported in any draw (date order): its first alterations.tsv row."""
    rows: dict[str, dict] = {}
    for draw in sorted(draws, key=lambda d: d.sample.collection_date):
        for row in draw.alterations:
            rows.setdefault(row["key"], row)
    return rows


def track_patient(
    draws: list[DrawData], config: dict | None = None, errors: ErrorModel | None = None
) -> dict[str, list[Observation]]:
    """For every alteration ever detected in the patient, its observation at every draw.

    ``errors``: the run's ErrorModel (background.error_model); the scalar model without one."""
    det = detection_settings(config)
    errors = errors or ErrorModel(det)
    draws = sorted(draws, key=lambda d: d.sample.collection_date)
    detected_rows = first_alteration_rows(draws)
    max_vaf = {
        key: max(_num(r["vaf"]) or 0 for d in draws for r in d.alterations if r["key"] == key)
        for key in detected_rows
    }
    observed = {key: [_observe(key, draw, det, errors) for draw in draws] for key in detected_rows}
    # a codon screen followed by an assay (codon_screens): its sequencing draws count too
    for key, observations in observed.items():
        span = screen_span(key)
        if span is not None:
            _screen_at_sequencing(key, span, observations, observed, draws, det, errors)
    series: dict[str, list[Observation]] = {}
    for key in sorted(detected_rows, key=lambda k: (detected_rows[k]["gene"], k)):
        observations = observed[key]
        _judge_structural_absences(key, observations, draws)
        _assign_trends(observations, det["alpha"], max_vaf[key])
        series[key] = observations
    return series


def _screen_at_sequencing(key, span, observations, observed, draws, det, errors) -> None:
    """A screen's not-assessed sequencing draws get what sequencing saw at its codons."""
    alleles = alleles_in_screen(span, observed)
    for index, (obs, draw) in enumerate(zip(observations, draws, strict=True)):
        if obs.status != "not_assessed" or draw_platform(draw) != "ngs":
            continue
        mine = {allele: observed[allele][index] for allele in alleles}
        fields = observe_at_sequencing(key, draw, mine, det, errors)
        if fields is not None:
            observations[index] = Observation(key, draw.sample, platform="ngs", **fields)


def site_of_key(key: str) -> tuple[str, int, str, str] | None:
    """(chrom, pos, ref, alt) of a small-variant key 'chrom:pos:ref>alt'; None for CN/fusions."""
    if key.startswith("fusion:") or ">" not in key:
        return None
    chrom_pos, change = key.rsplit(":", 1)
    chrom, pos = chrom_pos.rsplit(":", 1)
    ref, alt = change.split(">")
    return chrom, int(pos), ref, alt


_NGS_INPUTS = ("vcf", "cnv", "sv", "bam", "coverage")
# targeted-assay filter reasons after which the assay's own LoD95 stands (assay_calls)
_ASSAY_ABSENT = ("low_alt_reads", "not_significant")


def draw_platform(draw: DrawData) -> str:
    """ngs when the draw has any sequencing input, else its targeted assay's platform."""
    if any(getattr(draw.sample, role, None) for role in _NGS_INPUTS):
        return "ngs"
    return (draw.accounting.get("assay") or {}).get("platform") or "ngs"


def _observe(key: str, draw: DrawData, det: dict, errors: ErrorModel) -> Observation:
    obs = _observe_any(key, draw, det, errors)
    obs.platform = (obs.row or {}).get("platform") or draw_platform(draw)
    return obs


def _observe_assay(key: str, draw: DrawData) -> Observation | None:
    """A targeted assay measured the alteration at this draw and did not detect it: its own
    statistics (partition_stats) give the LoD95 at the copies analysed."""
    for row in draw.filtered:
        if row["key"] != key or row.get("platform", "ngs") in ("", "ngs"):
            continue
        if row["reason"] == "also_sequenced":
            continue
        obs = Observation(
            key,
            draw.sample,
            "not_evaluable",
            _num(row["vaf"]),
            _num(row["alt_reads"], int),
            _num(row["depth"], int),
            _num(row.get("lod95")),
            _num(row.get("p_value")),
            note=f"{row['platform']}: {row['detail']}",
            row=row,
            background_model="targeted_assay",
        )
        if row["reason"] in _ASSAY_ABSENT and obs.lod95 is not None:
            obs.status = "not_detected"
        return obs
    return None


def _observe_any(key: str, draw: DrawData, det: dict, errors: ErrorModel) -> Observation:
    for row in draw.alterations:
        if row["key"] == key:
            return Observation(
                key,
                draw.sample,
                "detected",
                _num(row["vaf"]),
                _num(row["alt_reads"], int),
                _num(row["depth"], int),
                _num(row["lod95"]),
                _num(row["p_value"]),
                _num(row["copy_number"]),
                row=row,
                background_model=row.get("background_model", ""),
            )
    assay = _observe_assay(key, draw)
    site = site_of_key(key)
    if assay is not None and (site is None or draw_platform(draw) != "ngs"):
        return assay
    if site is None:
        return _observe_without_record(key, draw)
    sequenced = _observe_sequenced(key, draw, det, errors.site(*site))
    if assay is None:
        return sequenced or _observe_without_record(key, draw)
    return _more_informative(assay, sequenced)


def _more_informative(assay: Observation, sequenced: Observation | None) -> Observation:
    """A draw both sequenced and assayed, the assay not detecting the allele: sequencing's
    detection (its reads pass the rule) or its lower LoD95 says more; otherwise the assay's."""
    if sequenced is None:
        return assay
    if sequenced.status == "detected":
        sequenced.note += f"; the {assay.platform or 'assay'} did not detect it ({assay.note})"
        return sequenced
    if assay.status != "not_detected":  # the assay could not say (e.g. no wild-type count)
        return sequenced
    deeper = (
        sequenced.status == "not_detected"
        and sequenced.lod95 is not None
        and (assay.lod95 is None or sequenced.lod95 < assay.lod95)
    )
    return sequenced if deeper else assay


def _observe_sequenced(key: str, draw: DrawData, det: dict, model) -> Observation | None:
    """The allele at a draw where sequencing did not call it: the BAM/coverage or the caller's
    filtered record, whichever is deeper; None when neither tells the depth."""
    evidence = _observe_evidence(key, draw, det, model) if key in draw.evidence else None
    record = _observe_filtered(key, draw, det, model)
    # When the BAM (or coverage) and the caller's own record both tell the depth, the deeper one
    # has the lower LoD95, so its absence or its reads say more.
    deeper_record = (
        evidence is not None
        and record is not None
        and record.lod95 is not None
        and (record.depth or 0) > (evidence.depth or 0)
    )
    if deeper_record:
        record.note += f" (deeper than the {draw.evidence[key].source}: {evidence.depth})"
        return record
    return evidence or record


def _observe_filtered(key: str, draw: DrawData, det: dict, model) -> Observation | None:
    """Status from the caller's filtered record of the allele, if it wrote one (``model``: the
    allele's background.SiteModel)."""
    for row in draw.filtered:
        if row["key"] != key or row.get("platform", "ngs") not in ("", "ngs"):
            continue  # a targeted assay's row has its own statistics (_observe_assay)
        depth = _num(row["depth"], int)
        obs = Observation(
            key,
            draw.sample,
            "not_evaluable",
            _num(row["vaf"]),
            _num(row["alt_reads"], int),
            depth,
            note=f"caller record filtered: {row['reason']}",
            row=row,
            background_model=model.model,
        )
        if row["reason"] in _DEPTH_INFORMATIVE and depth is not None:
            obs.lod95 = model.lod95(depth, alpha=det["alpha"], min_alt_reads=det["min_alt_reads"])
            alt = obs.alt_reads
            if depth < det["min_depth"]:
                obs.note = f"depth {depth} < min_depth {det['min_depth']}"
            elif alt is not None and model.supported(
                alt, depth, alpha=det["alpha"], min_alt_reads=det["min_alt_reads"]
            ):
                # Tumour-informed (SPEC 5.2): the alteration is known in this patient, and the
                # reads the caller reported pass the detection rule though the caller filtered it.
                obs.status = "detected"
                obs.p_value = model.p_value(alt, depth)
                obs.note = (
                    f"tumour-informed: the caller filtered this record ({row['reason']}"
                    f"{': ' + row['filters'] if row['filters'] not in ('', 'PASS') else ''}) "
                    "but its reads pass the detection rule"
                )
            else:
                # whether this absence is informative is decided against the draws it is
                # compared with (trends.classify_trends, max_vaf_elsewhere)
                obs.status = "not_detected"
        return obs
    return None


def _observe_evidence(key: str, draw: DrawData, det: dict, model) -> Observation:
    """Status from the reads counted at the site (tumour-informed), when the caller did not call."""
    ev = draw.evidence[key]
    obs = Observation(
        key,
        draw.sample,
        "not_assessed",
        depth=ev.depth,
        alt_reads=ev.alt_reads,
        background_model=model.model,
    )
    if not ev.depth:
        obs.note = f"no reads at the site in the {ev.source}"
        return obs
    # the clean strand's test where the normals' error sits on one strand (None: both strands)
    strand = model.clean_strand(ev.depth_fwd, ev.alt_fwd, ev.depth, ev.alt_reads)
    rule = {"alpha": det["alpha"], "min_alt_reads": det["min_alt_reads"]}
    obs.lod95 = strand.lod95(**rule) if strand is not None else model.lod95(ev.depth, **rule)
    if ev.alt_reads is not None:
        obs.vaf = ev.alt_reads / ev.depth
        obs.p_value = (
            strand.p_value if strand is not None else model.p_value(ev.alt_reads, ev.depth)
        )
    if ev.depth < det["min_depth"]:
        obs.status = "not_evaluable"
        obs.note = f"{ev.source} depth {ev.depth} < min_depth {det['min_depth']}"
    elif ev.alt_reads is not None and (
        strand.supported(**rule)
        if strand is not None
        else model.supported(ev.alt_reads, ev.depth, **rule)
    ):
        obs.status = "detected"
        obs.note = "tumour-informed: counted in the BAM at a site the caller did not report"
    else:
        obs.status = "not_detected"
        obs.note = f"re-genotyped from the {ev.source}"
    if strand is not None:
        obs.note += f"; {strand.note}"
    return obs


def _is_structural(key: str) -> bool:
    """Copy-number and fusion keys: no per-site record, no LoD95 (structural_absence)."""
    return key.startswith("fusion:") or key.endswith((":amplification", ":deep_deletion"))


def _observe_without_record(key: str, draw: DrawData) -> Observation:
    """Copy number and fusions have no per-site record when absent: the draw's inputs decide.

    'not_detected' here means only that the draw's file was read and the call did not fire;
    _judge_structural_absences then keeps it only where the call could have fired."""
    if key.startswith("fusion:"):
        if "sv" in draw.accounting:
            return Observation(
                key, draw.sample, "not_detected", note="SV calls given; this fusion not among them"
            )
        return Observation(key, draw.sample, "not_assessed", note="no SV calls for this draw")
    if key.endswith((":amplification", ":deep_deletion")):
        genes = draw.accounting.get("copy_number", {}).get("genes", [])
        gene = next((g for g in genes if g["key"] == key), None)
        if gene is not None:
            obs = Observation(key, draw.sample, "not_detected", note=gene["rule"])
            obs.copy_number = gene["copy_number"]
            # the numbers behind the call that did not fire, shown as a called one's are
            obs.row = {
                "log2": gene["log2"],
                "plasma_cn": gene["plasma_cn"],
                "tumor_cn": gene["tumor_cn"],
                "cn_rule": gene["rule"],
            }
            return obs
        why = (
            "gene not covered by segments"
            if "copy_number" in draw.accounting
            else ("no copy-number calls for this draw")
        )
        return Observation(key, draw.sample, "not_assessed", note=why)
    assay = draw.accounting.get("assay")
    if assay is not None and draw_platform(draw) != "ngs":
        measured = ", ".join(t["alteration"] for t in assay.get("targets", []))
        note = f"not assessed: the draw's {assay['platform']} assay measured only {measured}"
        return Observation(key, draw.sample, "not_assessed", note=note)
    return Observation(key, draw.sample, "not_assessed", note="no caller record at this site")


def _judge_structural_absences(
    key: str, observations: list[Observation], draws: list[DrawData]
) -> None:
    """Keep a copy-number or fusion 'not_detected' only where this draw's call would have fired
    for the level seen where it was called (SPEC 5.5); otherwise 'not_evaluable', with why."""
    if not _is_structural(key):
        return
    detections = [
        Detection(obs.sample.sample, obs.row, draw.accounting)
        for obs, draw in zip(observations, draws, strict=True)
        if obs.status == "detected"
    ]
    for obs, draw in zip(observations, draws, strict=True):
        if obs.status != "not_detected":
            continue
        if key.startswith("fusion:"):
            filtered = (draw.accounting.get("sv") or {}).get("filtered_fusions") or []
            record = next((entry for entry in filtered if entry["key"] == key), None)
            absence = fusion_absence(draw.accounting, record, detections)
            if record is not None:
                obs.alt_reads = record.get("alt_reads")
                if record.get("ref_reads") is not None:
                    obs.depth = record["ref_reads"] + (obs.alt_reads or 0)
        else:
            gene = next(g for g in draw.accounting["copy_number"]["genes"] if g["key"] == key)
            absence = copy_number_absence(
                gene, draw.accounting, detections, deletion=key.endswith(":deep_deletion")
            )
        obs.status, obs.note = absence.status, absence.reason
        obs.absence_by_rule = absence.status == "not_detected"


def _assign_trends(observations: list[Observation], alpha: float, max_vaf: float) -> None:
    """SPEC 5.5 trend labels with their test and p-value (trends.classify_trends)."""
    draws = [
        TrendDraw(
            sample=o.sample.sample,
            date=o.sample.collection_date,
            status=o.status,
            alt_reads=o.alt_reads,
            depth=o.depth,
            lod95=o.lod95,
            absence_by_rule=o.absence_by_rule,
            reason=o.note if _is_structural(o.key) and o.status != "detected" else "",
        )
        for o in observations
    ]
    calls = classify_trends(draws, alpha=alpha, max_vaf_elsewhere=max_vaf or None)
    for obs, call in zip(observations, calls, strict=True):
        obs.trend = call.label
        obs.trend_p_value = call.p_value
        obs.trend_test = call.test
        obs.trend_reason = call.reason
        obs.trend_since = call.since or ""
        if call.label == "not_evaluable" and obs.status == "not_detected":
            obs.status = "not_evaluable"
            obs.note = call.reason


def first_seen(observations: list[Observation]) -> str | None:
    for obs in observations:
        if obs.status == "detected":
            return obs.sample.sample
    return None


def write_timeline(path, patient: str, series: dict[str, list[Observation]], baseline) -> None:
    rows = []
    for key, observations in series.items():
        label = _label(observations)
        for obs in observations:
            rows.append(
                {
                    "patient": patient,
                    "key": key,
                    "gene": label[0],
                    "alteration": label[1],
                    "sample": obs.sample.sample,
                    "timepoint": obs.sample.timepoint,
                    "collection_date": obs.sample.collection_date.isoformat(),
                    "days_since_baseline": (obs.sample.collection_date - baseline).days,
                    "platform": obs.platform,
                    "status": obs.status,
                    "vaf": obs.vaf,
                    "alt_reads": obs.alt_reads,
                    "depth": obs.depth,
                    "lod95": obs.lod95,
                    "background_model": obs.background_model,
                    "trend": obs.trend,
                    "p_value": obs.trend_p_value,
                    "test": obs.trend_test,
                    "trend_reason": obs.trend_reason,
                    "detection_p_value": obs.p_value,
                    "clone": obs.clone,
                    "first_seen": first_seen(observations) or "",
                    "copy_number": obs.copy_number,
                    "note": obs.note,
                }
            )
    write_tsv(path, TIMELINE_COLUMNS, rows)


def _label(observations: list[Observation]) -> tuple[str, str]:
    for obs in observations:
        if obs.status == "detected" and obs.row:
            return obs.row["gene"], obs.row["alteration"]
    return "", ""
