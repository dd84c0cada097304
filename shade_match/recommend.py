"""SMP practice rules → a treatment plan.

:func:`recommend` turns a measurement (:class:`~shade_match.results.Analysis`) and a
pigment palette (usually a carbon-black dilution series, R1/R2) into a plan: the
target shade, one pigment per session building up to it from lighter, and warnings
in practitioner words. Every rule cites the research note it comes from
(``../shared/research/domain-and-peers.md`` §b, rules R1–R16) and the public page
behind it; every number that is ours and not a source's says so.

What the target is (R10)
------------------------
SMP matches "the hair color of your follicles when shaved", a grey shadow, not the
hair as it looks at length [R10]_. A photo shows long (or at least unshaved) hair,
so the target here is a **model** of the shaved look of one follicle: an optical
mix, in linear light, of the measured hair colour with the measured scalp skin,

    shaved_linear = f · hair_linear + (1 − f) · skin_linear,   f = SHAVED_HAIR_FRACTION

i.e. what a camera would record over a follicle whose cut shaft covers a fraction
``f`` of it, the skin showing through the rest (stubble coverage). It is a simple
additive (area-coverage) mix, not a measurement of real shaved scalps; see
:data:`SHAVED_HAIR_FRACTION` for the value and why.

When no hair is in view (a bald crown is common) the plan falls back to skin tone
and contrast (R11): the shaved look of a reference dark-brown hair over the
measured skin, with a request for a photo of the sides or back.

Sessions (R5, R6, R7)
---------------------
Session 1 is one or more steps *lighter* in the palette's lightness order than the
target: fresh work heals lighter (R6) but pigment in skin cools towards blue/green
(R7), and "too dark … will look blue and need to be removed" while too light is
fixed by the next session (R5). Each later session moves one step darker until the
target is reached; the remaining sessions add density at the target.

References
----------
.. [R5] https://www.skalptec.com/news/fading/ ;
   https://www.smpaus.com.au/how-many-sessions-are-needed-for-smp/ ;
   https://karen-nicolaou.com/2021/11/10/scalp-micropigmentation-pigment/
.. [R6] https://shadespm.com/tpost/x13e3uvo41-smp-healing-sessions-and-touch-up-what-t?amp=true ;
   https://scalpsusa.com/?p=19202
.. [R7] https://baldingblog.com/does-the-smp-scalp-micropigmentation-turn-green-or-blue-over-time ;
   https://inkedillusions.ca/scalp-micropigmentation-blogs/for-all-skin-colors ;
   https://dariadart.com/smp-scalp-micropigmentation
.. [R10] https://www.hairscalpcenter.com/en/articles/smp-and-gray-hair/ ;
   https://www.luxemicro.com.au/scalp-micropigmentation-and-grey-hair-how-does-it-work/
.. [R11] https://monsieurdonatien.fr/adapter-la-couleur-du-pigment-a-la-couleur-de-la-peau ;
   https://dermmicro.com/blogs/news/does-smp-look-better-on-dark-skin ;
   https://www.smpblends.com/pigments-and-technique
.. [R12] https://thecosmoglo.com/blogs/cosmoglo-for-pmu/the-science-behind-color-theory-in-pmu ;
   https://www.lastingimpressionpmu.com/post/choosing-the-right-color
.. [R13] https://www.smpofaustin.com/scalp-micropigmentation-and-gray-hair/ ;
   https://hishairclinic.co.uk/blog/smp-related-blogs/what-happens-to-your-smp-treatment-if-your-hair-goes-grey/
.. [R14] https://www.looknaturalatl.com/services/scar-camouflage/ ;
   https://www.americascalp.com/scarring-fut-fue-hair-transplate/ ;
   https://www.smpblends.com/scars-and-transplants
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from . import colour
from .errors import AnalysisError, SettingsError
from .results import Analysis, HairTone, Lab, SkinTone

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .palette import Palette, PaletteEntry
    from .scar import ScarMeasurement

__all__ = [
    "SHAVED_HAIR_FRACTION",
    "REFERENCE_HAIR_HEX",
    "DARK_PIGMENT_MAX_L",
    "FAIR_ITA_CLASSES",
    "FAIR_MAX_MONK",
    "GREY_HAIR_FRACTION",
    "LOW_CONFIDENCE",
    "SOURCES",
    "Overrides",
    "Choice",
    "SessionStep",
    "PlanWarning",
    "Recommendation",
    "TrainingScore",
    "shaved_look_lab",
    "treatment_target",
    "recommend",
    "recommendation_to_dict",
    "score_training_pick",
]

# --- numbers that change the plan ------------------------------------------------------

#: Weight of the hair colour in the shaved look of one follicle; the rest is skin
#: showing through and around the cut shaft. A **design choice**, not a measurement:
#: no source gives a number (R10 only says the shaved look is a grey shadow).
#: Pigment palettes hold the healed colour of one *dot* (e.g. the shipped carbon
#: series, L* 14–55 healed on light skin), so the target is a per-follicle colour,
#: mostly hair: 0.85 puts black hair (L* ≈ 18) on fair skin (MST 2) at L* ≈ 45
#: (≈ 8:1 in the shipped series), on medium skin (MST 6) at L* ≈ 28 and on dark skin
#: (MST 9) at L* ≈ 19 (near-neat), brown hair (L* ≈ 32) on fair skin at L* ≈ 50
#: and blonde hair at the light end — the directions R1 and R11 describe (darker
#: hair and darker skin → less water; light hair → more water).
SHAVED_HAIR_FRACTION = 0.85

#: Hair assumed when none is in view: "Dark Brown" #3B3024 of the collectedwebs hair
#: colour list (research §c). A design choice — the most common SMP request is a
#: dark buzz-cut look — and the plan says it was assumed.
REFERENCE_HAIR_HEX = "#3b3024"

#: A pigment (or its healed swatch) at or below this L* counts as "dark" for the
#: blue-healing warning (R7). A design choice: L* 40 is below the middle of the
#: grey scale, where a carbon grey on fair skin reads as near-black.
DARK_PIGMENT_MAX_L = 40.0

#: Del Bino ITA° classes counted as fair skin for R7 ("fair skin: higher risk of
#: pigment turning bluish if applied too dark"). Design choice: the two lightest
#: classes (ITA° > 41°), which Groh et al.'s mapping puts at Fitzpatrick I–II.
FAIR_ITA_CLASSES = ("very light", "light")

#: Monk Skin Tone at or below this also counts as fair (design choice: MST 1–3 are
#: the three near-white swatches, L* > 92, see research §c).
FAIR_MAX_MONK = 3

#: Grey fraction from which the grey-hair rule (R13) applies. Same choice as
#: ``shade_match.analysis.GREY_HAIR_WARNING_FRACTION``: a fifth of the hair grey.
GREY_HAIR_FRACTION = 0.2

#: Measurement confidence below which the plan warns. A design choice: below one
#: half the estimate's own spread or the colour correction is doubtful enough that a
#: practitioner should check the swatch against the client in person.
LOW_CONFIDENCE = 0.5

#: Steps lighter than the target for session 1: the default, and the larger value
#: used when a dark result would be costly (fair skin, R7) or the measurement is
#: unsure. Design choices following R5 ("select a light shade during the initial
#: session"); no source gives a number of steps.
SESSION1_STEPS_LIGHTER = 1
SESSION1_STEPS_LIGHTER_CAUTIOUS = 2

#: Rule id → public pages behind it (research notes §b).
SOURCES: dict[str, tuple[str, ...]] = {
    "R5": (
        "https://www.skalptec.com/news/fading/",
        "https://www.smpaus.com.au/how-many-sessions-are-needed-for-smp/",
    ),
    "R6": (
        "https://shadespm.com/tpost/x13e3uvo41-smp-healing-sessions-and-touch-up-what-t?amp=true",
        "https://scalpsusa.com/?p=19202",
    ),
    "R7": (
        "https://baldingblog.com/does-the-smp-scalp-micropigmentation-turn-green-or-blue-over-time",
        "https://inkedillusions.ca/scalp-micropigmentation-blogs/for-all-skin-colors",
    ),
    "R10": (
        "https://www.hairscalpcenter.com/en/articles/smp-and-gray-hair/",
        "https://www.luxemicro.com.au/scalp-micropigmentation-and-grey-hair-how-does-it-work/",
    ),
    "R11": (
        "https://monsieurdonatien.fr/adapter-la-couleur-du-pigment-a-la-couleur-de-la-peau",
        "https://dermmicro.com/blogs/news/does-smp-look-better-on-dark-skin",
        "https://www.smpblends.com/pigments-and-technique",
    ),
    "R12": (
        "https://thecosmoglo.com/blogs/cosmoglo-for-pmu/the-science-behind-color-theory-in-pmu",
        "https://www.lastingimpressionpmu.com/post/choosing-the-right-color",
    ),
    "R13": (
        "https://www.smpofaustin.com/scalp-micropigmentation-and-gray-hair/",
        "https://hishairclinic.co.uk/blog/smp-related-blogs/what-happens-to-your-smp-treatment-if-your-hair-goes-grey/",
    ),
    "R14": (
        "https://www.looknaturalatl.com/services/scar-camouflage/",
        "https://www.americascalp.com/scarring-fut-fue-hair-transplate/",
        "https://www.smpblends.com/scars-and-transplants",
    ),
}

PRACTITIONER = "practitioner"
SHADE_MATCH = "shade-match"


# --- result types ------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """The practitioner's choices, each overruling shade-match's.

    Attributes
    ----------
    target_id : str or None
        Palette entry id to use as the target shade.
    session1_id : str or None
        Palette entry id for session 1.
    sessions : int or None
        Number of sessions (1–10).
    reason : str
        Why (free text, kept in the plan).
    """

    target_id: str | None = None
    session1_id: str | None = None
    sessions: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.sessions is not None and (
            not isinstance(self.sessions, int) or not 1 <= self.sessions <= 10
        ):
            raise SettingsError(
                f"overrides.sessions must be a whole number 1–10; got {self.sessions!r}"
            )


@dataclass(frozen=True)
class Choice:
    """One decision in the plan: what was chosen, by whom, and why.

    ``chosen_by`` is ``"practitioner"`` (an :class:`Overrides` field) or
    ``"shade-match"``.
    """

    name: str
    value: str
    chosen_by: str
    reason: str


@dataclass(frozen=True)
class SessionStep:
    """The pigment for one session.

    ``delta_e`` is the CIEDE2000 difference between this entry and the plan's
    target colour (``Recommendation.target_lab``); ``steps_lighter`` how many
    palette steps (in lightness order) it sits above the target entry (0 = the
    target, negative = darker than the target).
    """

    session: int
    entry_id: str
    name: str
    dilution: float | None
    lab: Lab
    hex: str
    delta_e: float
    steps_lighter: int
    chosen_by: str
    reasoning: str


@dataclass(frozen=True)
class PlanWarning:
    """A caution for the practitioner, with the rule and pages behind it."""

    code: str
    message: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    """A treatment plan for one client.

    Attributes
    ----------
    palette : str
        The palette's name.
    basis : {"shaved-hair", "skin-only", "hair-only"}
        What the target was derived from.
    target_lab, target_hex
        The colour the healed work should match (model of the shaved look, R10).
    target_explanation : str
    target : SessionStep
        The palette entry chosen as the target shade (``session`` = 0).
    sessions : tuple of SessionStep
        One entry per session, session 1 first.
    choices : tuple of Choice
        Target, session-1 shade and number of sessions, and who chose each.
    warnings : tuple of PlanWarning
    requests : tuple of str
        What else the practitioner should provide (e.g. a photo of the sides).
    scar_target_id : str or None
        Nearest palette entry to the scar camouflage colour, when a scar was measured.
    """

    palette: str
    basis: str
    target_lab: Lab
    target_hex: str
    target_explanation: str
    target: SessionStep
    sessions: tuple[SessionStep, ...]
    choices: tuple[Choice, ...]
    warnings: tuple[PlanWarning, ...] = ()
    requests: tuple[str, ...] = ()
    scar_target_id: str | None = None
    shaved_hair_fraction: float = SHAVED_HAIR_FRACTION


@dataclass(frozen=True)
class TrainingScore:
    """How close a trainee's pick is to shade-match's target.

    ``rank`` is the pick's place (1 = best) among the palette's entries ordered by
    ΔE00 to the target.
    """

    picked_id: str
    picked_delta_e: float
    best_id: str
    best_delta_e: float
    rank: int
    entries: int
    target_lab: Lab
    explanation: str


# --- the model ----------------------------------------------------------------------------


def _lab_tuple(values) -> Lab:
    return tuple(float(v) for v in np.asarray(values, dtype=float).reshape(3))  # type: ignore[return-value]


def shaved_look_lab(
    hair_lab: Sequence[float], skin_lab: Sequence[float], hair_fraction: float = SHAVED_HAIR_FRACTION
) -> Lab:
    """Model of how hair looks shaved: an area mix of hair and skin in linear light.

    ``linear = f · hair + (1 − f) · skin`` in linear sRGB (unclipped, so colours
    outside the sRGB gamut survive the round trip), converted back to CIELAB. An
    additive (area-coverage) mix is the physically simple choice for two colours
    side by side below the eye's resolution. It is a model; see the module docstring.

    Parameters
    ----------
    hair_lab, skin_lab : sequence of 3 floats
        CIELAB D65.
    hair_fraction : float in [0, 1]

    Returns
    -------
    Lab
    """
    if not 0.0 <= hair_fraction <= 1.0:
        raise SettingsError(f"hair_fraction must be within [0, 1]; got {hair_fraction!r}")
    hair_lin = colour.srgb_to_linear(colour.lab_to_srgb(np.asarray(hair_lab, float), clip=False))
    skin_lin = colour.srgb_to_linear(colour.lab_to_srgb(np.asarray(skin_lab, float), clip=False))
    mixed = hair_fraction * hair_lin + (1.0 - hair_fraction) * skin_lin
    return _lab_tuple(colour.srgb_to_lab(colour.linear_to_srgb(mixed)))


@dataclass(frozen=True)
class _Target:
    lab: Lab
    basis: str
    explanation: str
    requests: tuple[str, ...]


def treatment_target(analysis: Analysis, hair_fraction: float = SHAVED_HAIR_FRACTION) -> _Target:
    """The colour the healed work should match, and how it was derived.

    Raises
    ------
    AnalysisError
        Neither hair nor skin was measured.
    """
    hair, skin = analysis.hair, analysis.skin
    if hair is not None and skin is not None:
        lab = shaved_look_lab(hair.lab, skin.lab, hair_fraction)
        return _Target(
            lab,
            "shaved-hair",
            f"Target is the hair as it would look shaved (R10): a model mixing the measured hair "
            f"colour ({hair.hex}) with the scalp skin ({skin.hex}) at {hair_fraction:.0%} stubble "
            "coverage per follicle, not the colour of the hair at length.",
            (),
        )
    if skin is not None:
        lab = shaved_look_lab(colour.hex_to_lab(REFERENCE_HAIR_HEX), skin.lab, hair_fraction)
        return _Target(
            lab,
            "skin-only",
            "No hair in view, so the target comes from skin tone and contrast (R11): the "
            f"shaved look of an assumed dark-brown hair ({REFERENCE_HAIR_HEX}) over the "
            f"measured skin ({skin.hex}). Darker skin gives a darker target.",
            (
                "Add a photo of the sides or back of the head, where hair still grows, "
                "so the target can follow the client's own hair colour.",
            ),
        )
    if hair is not None:
        return _Target(
            _lab_tuple(hair.lab),
            "hair-only",
            f"No bare scalp skin measured, so the target is the hair colour itself ({hair.hex}). "
            "Hair looks lighter shaved (R10): treat this target as the dark limit.",
            ("Add a photo with bare scalp skin in view so the shaved look can be modelled.",),
        )
    raise AnalysisError(
        "cannot plan a treatment: expected a measured hair or skin tone; the analysis has neither "
        f"(file {analysis.file!r})"
    )


# --- palette helpers -----------------------------------------------------------------------


def _entries(palette: Palette) -> tuple[PaletteEntry, ...]:
    entries = tuple(palette.entries)
    if not entries:
        raise SettingsError(f"palette {getattr(palette, 'name', '?')!r} has no entries")
    return entries


def _entry_by_id(palette: Palette, entry_id: str, what: str) -> PaletteEntry:
    for entry in palette.entries:
        if entry.id == entry_id:
            return entry
    ids = [e.id for e in palette.entries]
    shown = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
    raise SettingsError(
        f"{what}: expected an entry id of palette {getattr(palette, 'name', '?')!r} ({shown}); "
        f"got {entry_id!r}"
    )


def _lightness_order(entries: Sequence[PaletteEntry]) -> list[PaletteEntry]:
    """Entries darkest → lightest by L* (ties by id, so the order is stable)."""
    return sorted(entries, key=lambda e: (float(e.lab[0]), str(e.id)))


def _delta_e_to(target_lab: Lab, entries: Sequence[PaletteEntry]) -> np.ndarray:
    labs = np.array([e.lab for e in entries], dtype=float)
    return np.atleast_1d(colour.delta_e(np.asarray(target_lab)[None, :], labs))


def _dilution(entry: PaletteEntry) -> float | None:
    value = getattr(entry, "dilution", None)
    return None if value is None else float(value)


def _step(
    entry: PaletteEntry,
    session: int,
    target_lab: Lab,
    ordered: list[PaletteEntry],
    target_entry: PaletteEntry,
    chosen_by: str,
    reasoning: str,
) -> SessionStep:
    index = {id(e): i for i, e in enumerate(ordered)}
    steps = index[id(entry)] - index[id(target_entry)]
    return SessionStep(
        session=session,
        entry_id=str(entry.id),
        name=str(entry.name),
        dilution=_dilution(entry),
        lab=_lab_tuple(entry.lab),
        hex=str(getattr(entry, "hex", "") or colour.lab_to_hex(entry.lab)),
        delta_e=float(_delta_e_to(target_lab, [entry])[0]),
        steps_lighter=int(steps),
        chosen_by=chosen_by,
        reasoning=reasoning,
    )


def _describe(entry: PaletteEntry) -> str:
    dilution = _dilution(entry)
    text = f"{entry.name} ({entry.id}"
    if dilution is not None:
        text += f", {dilution:g}:1 water:pigment" if dilution > 0 else ", neat"
    return text + ")"


# --- the rules ----------------------------------------------------------------------------


def _is_fair(skin: SkinTone | None) -> bool:
    if skin is None:
        return False
    return skin.ita_class.strip().lower() in FAIR_ITA_CLASSES or int(skin.monk) <= FAIR_MAX_MONK


def _warning(code: str, message: str, *rules: str) -> PlanWarning:
    sources = tuple(url for rule in rules for url in SOURCES.get(rule, ()))
    return PlanWarning(code=code, message=message, rules=tuple(rules), sources=sources)


def _warnings(
    analysis: Analysis,
    target_entry: PaletteEntry,
    session1: PaletteEntry,
    scar: ScarMeasurement | None,
) -> list[PlanWarning]:
    hair: HairTone | None = analysis.hair
    skin: SkinTone | None = analysis.skin
    found: list[PlanWarning] = []
    darkest = min(float(target_entry.lab[0]), float(session1.lab[0]))
    if _is_fair(skin) and darkest <= DARK_PIGMENT_MAX_L:
        found.append(
            _warning(
                "dark-on-fair",
                "Dark shade on fair skin: carbon pigment heals cooler and can look blue on fair "
                "skin when applied too dark. Start lighter and only go darker once session 1 "
                "has healed.",
                "R7",
                "R5",
            )
        )
    if hair is not None and hair.grey_fraction >= GREY_HAIR_FRACTION:
        found.append(
            _warning(
                "grey-hair",
                f"Grey hair present ({hair.grey_fraction:.0%} of hair): blend in the grey range "
                "with lighter tones, and plan lighter touch-ups as more hair greys.",
                "R13",
            )
        )
    if skin is not None and skin.undertone in ("warm", "cool"):
        advice = (
            "neutral or cooler pigment" if skin.undertone == "warm" else "slightly warmer pigment"
        )
        found.append(
            _warning(
                f"undertone-{skin.undertone}",
                f"{skin.undertone.capitalize()} skin undertone. In brow PMU the rule is {advice}; "
                "no SMP-specific undertone rule was found, so take it as a caution only and judge "
                "the healed session-1 result on the client.",
                "R12",
            )
        )
    low = [
        (name, tone.confidence)
        for name, tone in (("hair", hair), ("skin", skin))
        if tone is not None and tone.confidence < LOW_CONFIDENCE
    ]
    if low:
        parts = ", ".join(f"{name} {value:.2f}" for name, value in low)
        found.append(
            _warning(
                "low-confidence",
                f"Low measurement confidence ({parts}; below {LOW_CONFIDENCE:.1f}, a threshold "
                "chosen by shade-match). Check the swatch against the client in daylight before "
                "you start; session 1 goes an extra step lighter.",
                "R5",
            )
        )
    if scar is not None:
        found.append(
            _warning(
                "scar",
                f"Scar present ({scar.pigmentation}, ΔE00 {scar.delta_e:.1f} from the surrounding "
                "skin). Scar tissue takes pigment unevenly: expect more sessions there. Scars "
                "should be healed 9–12 months and flat; raised (keloid) scars must be flattened "
                "first.",
                "R14",
            )
        )
    return found


def recommend(
    analysis: Analysis,
    palette: Palette,
    *,
    overrides: Overrides | None = None,
    sessions: int = 3,
    scar: ScarMeasurement | None = None,
) -> Recommendation:
    """Plan an SMP treatment from a measurement.

    Parameters
    ----------
    analysis : Analysis
        The measurement (hair and/or skin tone).
    palette : Palette
        Pigment palette; for a dilution series the steps are its dilutions.
    overrides : Overrides, optional
        Practitioner choices that replace shade-match's.
    sessions : int
        Default number of sessions (R5: a "3 session standard"), 1–10.
    scar : ScarMeasurement, optional
        A measured scar (:func:`shade_match.scar.measure_scar`); adds the R14 warning
        and the nearest palette entry to the scar camouflage colour.

    Returns
    -------
    Recommendation

    Raises
    ------
    AnalysisError
        Neither hair nor skin was measured.
    SettingsError
        An override names an entry that is not in the palette, or a count is out of range.
    """
    if not isinstance(sessions, int) or not 1 <= sessions <= 10:
        raise SettingsError(f"sessions must be a whole number 1–10; got {sessions!r}")
    overrides = overrides or Overrides()
    entries = _entries(palette)
    target = treatment_target(analysis)
    ordered = _lightness_order(entries)
    distances = _delta_e_to(target.lab, ordered)
    palette_name = str(getattr(palette, "name", ""))
    why = overrides.reason or "no reason given"

    choices: list[Choice] = []
    best = ordered[int(np.argmin(distances))]
    if overrides.target_id is not None:
        target_entry = _entry_by_id(palette, overrides.target_id, "overrides.target_id")
        target_by, target_reason = PRACTITIONER, why
    else:
        target_entry = best
        target_by = SHADE_MATCH
        target_reason = f"nearest palette entry to the target colour (ΔE00 {float(distances.min()):.1f})"
    choices.append(Choice("target", str(target_entry.id), target_by, target_reason))

    n_sessions = overrides.sessions if overrides.sessions is not None else sessions
    sessions_by = PRACTITIONER if overrides.sessions is not None else SHADE_MATCH
    choices.append(
        Choice(
            "sessions",
            str(n_sessions),
            sessions_by,
            why if sessions_by == PRACTITIONER else "3-session standard; a 4th touch-up if needed (R5)",
        )
    )

    cautious = _is_fair(analysis.skin) or any(
        tone is not None and tone.confidence < LOW_CONFIDENCE for tone in (analysis.hair, analysis.skin)
    ) or target.basis != "shaved-hair"
    wanted_steps = SESSION1_STEPS_LIGHTER_CAUTIOUS if cautious else SESSION1_STEPS_LIGHTER
    target_index = ordered.index(target_entry)
    lighter_available = len(ordered) - 1 - target_index

    if overrides.session1_id is not None:
        session1 = _entry_by_id(palette, overrides.session1_id, "overrides.session1_id")
        session1_by, session1_reason = PRACTITIONER, why
    else:
        steps = min(wanted_steps, lighter_available)
        session1 = ordered[target_index + steps]
        session1_by = SHADE_MATCH
        if steps == 0:
            session1_reason = "the target is already the lightest entry; no lighter step exists"
        else:
            because = (
                "fair skin, unsure measurement or no hair in view: extra caution"
                if cautious
                else "standard start"
            )
            session1_reason = f"{steps} step(s) lighter than the target ({because}; R5, R6, R7)"
    choices.append(Choice("session 1", str(session1.id), session1_by, session1_reason))

    plan = _session_plan(
        ordered, target_entry, session1, n_sessions, target.lab, session1_by, session1_reason
    )
    target_step = _step(target_entry, 0, target.lab, ordered, target_entry, target_by, target_reason)

    warnings = _warnings(analysis, target_entry, session1, scar)
    scar_target_id = None
    if scar is not None and scar.camouflage_lab is not None:
        scar_distances = _delta_e_to(scar.camouflage_lab, ordered)
        scar_target_id = str(ordered[int(np.argmin(scar_distances))].id)

    return Recommendation(
        palette=palette_name,
        basis=target.basis,
        target_lab=target.lab,
        target_hex=colour.lab_to_hex(target.lab),
        target_explanation=target.explanation,
        target=target_step,
        sessions=tuple(plan),
        choices=tuple(choices),
        warnings=tuple(warnings),
        requests=target.requests,
        scar_target_id=scar_target_id,
    )


def _session_plan(
    ordered: list[PaletteEntry],
    target_entry: PaletteEntry,
    session1: PaletteEntry,
    n_sessions: int,
    target_lab: Lab,
    session1_by: str,
    session1_reason: str,
) -> list[SessionStep]:
    """Session 1 as chosen, then one step darker per session until the target."""
    target_index = ordered.index(target_entry)
    index = ordered.index(session1)
    plan = [
        _step(
            session1,
            1,
            target_lab,
            ordered,
            target_entry,
            session1_by,
            f"Session 1: {_describe(session1)}. Fresh work looks darker and heals lighter, "
            "and carbon heals cooler; going too dark is the costly mistake, too light is fixed "
            f"next session. Why this shade: {session1_reason}.",
        )
    ]
    for session in range(2, n_sessions + 1):
        if index > target_index:
            index -= 1
            text = (
                f"Session {session}: one step darker, {_describe(ordered[index])}, after checking "
                "the healed result of the last session in daylight (R5: progressively darker)."
            )
        elif index < target_index:
            text = (
                f"Session {session}: stay at {_describe(ordered[index])}; session 1 was chosen "
                "darker than the target, so do not go darker."
            )
        else:
            text = (
                f"Session {session}: {_describe(ordered[index])} (the target) to build density "
                "and even out the healed dots."
            )
        plan.append(_step(ordered[index], session, target_lab, ordered, target_entry, SHADE_MATCH, text))
    return plan


# --- serialisation and training -------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def recommendation_to_dict(rec: Recommendation) -> dict[str, Any]:
    """A JSON-able dict of a plan (floats rounded to 4 decimals, tuples as lists).

    Goes under the ``"recommendation"`` key of the CLI and batch output.
    """
    return _plain(asdict(rec))


def score_training_pick(analysis: Analysis, palette: Palette, picked_id: str) -> TrainingScore:
    """Score a trainee's shade pick against shade-match's target (training page).

    Parameters
    ----------
    analysis : Analysis
    palette : Palette
    picked_id : str
        The id of the palette entry the trainee picked.

    Returns
    -------
    TrainingScore

    Raises
    ------
    SettingsError
        ``picked_id`` is not in the palette.
    AnalysisError
        Neither hair nor skin was measured.
    """
    from .scales import delta_e_reading

    picked = _entry_by_id(palette, picked_id, "picked_id")
    target = treatment_target(analysis)
    entries = list(_entries(palette))
    distances = _delta_e_to(target.lab, entries)
    picked_delta_e = float(distances[entries.index(picked)])
    best_index = int(np.argmin(distances))
    best = entries[best_index]
    rank = int(np.sum(distances < picked_delta_e - 1e-9)) + 1
    direction = "lighter" if float(picked.lab[0]) > float(best.lab[0]) else "darker"
    if picked is best or rank == 1:
        verdict = "You picked the nearest shade to the target."
    else:
        verdict = (
            f"The nearest shade is {_describe(best)} at ΔE00 {distances[best_index]:.1f}; your pick "
            f"is {direction} and ranks {rank} of {len(entries)}."
        )
        if direction == "lighter":
            verdict += " Erring lighter is the safe side for a first session (R5)."
        else:
            verdict += " Erring darker is the costly side: dark work can heal blue (R7)."
    explanation = (
        f"Your pick {_describe(picked)} is ΔE00 {picked_delta_e:.1f} from the target "
        f"({delta_e_reading(picked_delta_e)}). {verdict} {target.explanation}"
    )
    return TrainingScore(
        picked_id=str(picked.id),
        picked_delta_e=picked_delta_e,
        best_id=str(best.id),
        best_delta_e=float(distances[best_index]),
        rank=rank,
        entries=len(entries),
        target_lab=target.lab,
        explanation=explanation,
    )
