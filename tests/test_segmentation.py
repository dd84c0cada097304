"""Tests of shade_match.segmentation on scenes of known layout.

Every scene is built here with its truth masks: a textured skin field, dark and white
strands drawn as anti-aliased lines, a background band, glare blobs, a shadow, pores and
freckles. The masks the segmentation returns are compared with that truth (precision,
recall, IoU) and with invariants (disjoint masks, 90° rotation).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, lab2rgb

from shade_match.errors import SettingsError
from shade_match.segmentation import Segmentation, segment

SKIN_LAB = (66.0, 13.0, 18.0)        # a medium-light skin (Monk ~4)
DARK_HAIR_LAB = (20.0, 3.0, 5.0)     # dark brown / black
WHITE_HAIR_LAB = (88.0, 0.0, 3.0)    # white
BACKGROUND_LAB = (55.0, -8.0, -25.0)  # a blue-grey wall


def _srgb(lab) -> np.ndarray:
    return lab2rgb(np.asarray(lab, dtype=np.float64).reshape(1, 1, 3)).reshape(3)


def _lab_of(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32), cv2.COLOR_RGB2Lab)


def _skin_field(rng, shape, *, texture=0.04, noise=0.006) -> np.ndarray:
    """Skin colour × a smooth multiplicative texture, plus pixel noise (sRGB float)."""
    height, width = shape
    low = rng.normal(0, 1, (max(2, height // 40), max(2, width // 40))).astype(np.float32)
    low = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    field = np.exp(texture * low)[..., None] * _srgb(SKIN_LAB)[None, None, :]
    field = field + rng.normal(0, noise, (height, width, 3))
    return np.clip(field, 0, 1).astype(np.float32)


def _draw_strands(rng, shape, count, width_px, *, margin=0, length=(40, 120)):
    """An anti-aliased coverage map of *count* straight strands, and its core mask."""
    height, width = shape
    coverage = np.zeros(shape, np.uint8)
    for _ in range(count):
        x0 = int(rng.integers(margin, width))
        y0 = int(rng.integers(0, height))
        angle = rng.uniform(0, np.pi)
        length_px = rng.uniform(*length)
        x1 = int(x0 + length_px * np.cos(angle))
        y1 = int(y0 + length_px * np.sin(angle))
        cv2.line(coverage, (x0, y0), (x1, y1), 255, width_px, lineType=cv2.LINE_AA)
    alpha = coverage.astype(np.float32) / 255.0
    if margin:
        alpha[:, :margin] = 0.0
    return alpha


def _paint(image, alpha, lab):
    colour = _srgb(lab)[None, None, :].astype(np.float32)
    return image * (1 - alpha[..., None]) + colour * alpha[..., None]


def _scene(seed=0, *, shape=(480, 640), dark=60, white=0, band=0, glare=False, shadow=False,
           pores=False, strand_width=4):
    rng = np.random.default_rng(seed)
    image = _skin_field(rng, shape)
    truth = {"band": np.zeros(shape, bool), "glare": np.zeros(shape, bool), "shadow": np.zeros(shape, bool)}
    band_px = int(band * shape[1])
    if pores:
        # Small dark dots (pores) and larger brownish blobs (freckles): not hair.
        for _ in range(400):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            cv2.circle(image, (x, y), 1, tuple(float(v) for v in _srgb((55, 14, 18))), -1, cv2.LINE_AA)
        for _ in range(25):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            cv2.circle(image, (x, y), int(rng.integers(4, 9)), tuple(float(v) for v in _srgb((56, 16, 24))), -1, cv2.LINE_AA)
    dark_alpha = _draw_strands(rng, shape, dark, strand_width, margin=band_px) if dark else np.zeros(shape, np.float32)
    white_alpha = _draw_strands(rng, shape, white, strand_width, margin=band_px) if white else np.zeros(shape, np.float32)
    image = _paint(image, dark_alpha, DARK_HAIR_LAB)
    image = _paint(image, white_alpha, WHITE_HAIR_LAB)
    if shadow:
        rows = slice(shape[0] * 3 // 4, shape[0])
        cols = slice(shape[1] * 3 // 4, shape[1])
        image[rows, cols] *= 0.18
        truth["shadow"][rows, cols] = True
    if glare:
        yy, xx = np.mgrid[: shape[0], : shape[1]]
        centre = (shape[0] * 0.3, shape[1] * 0.7)
        blob = np.exp(-(((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) / (2 * 14.0**2)))
        image = image + blob[..., None].astype(np.float32) * 1.2
        truth["glare"] = blob > 0.5
    if band_px:
        image[:, :band_px] = _srgb(BACKGROUND_LAB) + rng.normal(0, 0.006, (shape[0], band_px, 3))
        truth["band"][:, :band_px] = True
    image = np.clip(image, 0, 1).astype(np.float32)
    truth["dark"] = dark_alpha >= 0.5
    truth["white"] = white_alpha >= 0.5
    truth["hair"] = truth["dark"] | truth["white"]
    truth["scalp"] = ~truth["band"]
    return image, truth


def _precision_recall(found, truth):
    hits = np.count_nonzero(found & truth)
    return hits / max(1, np.count_nonzero(found)), hits / max(1, np.count_nonzero(truth))


def _segment(image, **kwargs):
    return segment(image, _lab_of(image), **kwargs)


# --------------------------------------------------------------------------------------


def test_dark_strands_are_found_with_precision_and_recall():
    image, truth = _scene(1, dark=60)
    seg = _segment(image)
    precision, recall = _precision_recall(seg.hair, truth["hair"])
    assert precision >= 0.75, precision
    assert recall >= 0.8, recall


def test_white_strands_are_found_as_hair():
    image, truth = _scene(2, dark=0, white=60)
    seg = _segment(image)
    precision, recall = _precision_recall(seg.hair, truth["white"])
    assert precision >= 0.7, precision
    assert recall >= 0.7, recall


def test_grey_and_dark_strands_together():
    image, truth = _scene(3, dark=40, white=40)
    seg = _segment(image)
    _, recall_dark = _precision_recall(seg.hair, truth["dark"])
    _, recall_white = _precision_recall(seg.hair, truth["white"])
    assert recall_dark >= 0.75, recall_dark
    assert recall_white >= 0.5, recall_white


def test_bald_scalp_with_pores_and_freckles_has_no_hair():
    image, _ = _scene(4, dark=0, pores=True)
    seg = _segment(image)
    assert np.count_nonzero(seg.hair) == 0
    assert seg.coverage == 0.0
    assert np.count_nonzero(seg.skin) >= 0.5 * seg.skin.size


@pytest.mark.parametrize(("strand_lab", "is_hair"), [((60.0, -25.0, 25.0), False), ((30.0, 8.0, 12.0), True)])
def test_green_strands_on_a_bald_scalp_are_not_hair(strand_lab, is_hair):
    """Thin green lines, as light as the skin, over a quarter of a bald scalp (a plant,
    an aquarium's weed, a green shirt's weave at the edge of the frame) are lines, but
    hair is not green (segmentation.HAIR_MIN_A_STAR; without it they were hair); the
    same lines in brown are hair."""
    rng = np.random.default_rng(21)
    shape = (480, 640)
    image = _skin_field(rng, shape)
    alpha = _draw_strands(rng, shape, 120, 3, length=(30, 80))
    alpha[:, 160:] = 0.0  # the left quarter only
    seg = _segment(_paint(image, alpha, strand_lab))
    lines = alpha > 0.5
    found = np.count_nonzero(seg.hair & lines) / np.count_nonzero(lines)
    if is_hair:
        assert found >= 0.5, found
    else:
        assert np.count_nonzero(seg.hair) == 0, found
        assert np.count_nonzero(seg.skin[:, 200:]) >= 0.5 * seg.skin[:, 200:].size


def test_background_band_is_not_scalp():
    image, truth = _scene(5, dark=50, band=0.2)
    seg = _segment(image)
    band_in_scalp = np.count_nonzero(seg.scalp & truth["band"]) / np.count_nonzero(truth["band"])
    scalp_recall = np.count_nonzero(seg.scalp & truth["scalp"]) / np.count_nonzero(truth["scalp"])
    assert band_in_scalp <= 0.05, band_in_scalp
    assert scalp_recall >= 0.9, scalp_recall
    # At most the upsampled edge of the low-resolution scalp mask reaches into the band.
    assert np.count_nonzero((seg.hair | seg.skin) & truth["band"]) <= 0.01 * np.count_nonzero(truth["band"])


def test_close_up_filling_the_frame_is_all_scalp():
    image, _ = _scene(6, dark=50)
    seg = _segment(image)
    assert np.count_nonzero(seg.scalp) / seg.scalp.size >= 0.95


def test_glare_is_excluded_and_never_hair_or_skin():
    image, truth = _scene(7, dark=40, glare=True)
    seg = _segment(image)
    glare_excluded = np.count_nonzero(seg.excluded & truth["glare"]) / np.count_nonzero(truth["glare"])
    assert glare_excluded >= 0.9, glare_excluded
    assert not (seg.excluded & (seg.hair | seg.skin)).any()


def test_deep_shadow_is_excluded_from_skin():
    image, truth = _scene(8, dark=40, shadow=True)
    seg = _segment(image)
    shadow_skin = np.count_nonzero(seg.skin & truth["shadow"]) / np.count_nonzero(truth["shadow"])
    assert shadow_skin <= 0.05, shadow_skin


def test_masks_are_disjoint_boolean_and_sized():
    image, _ = _scene(9, dark=50, white=20, glare=True, shadow=True, band=0.1)
    seg = _segment(image)
    for name in ("scalp", "hair", "skin", "excluded", "reference"):
        mask = getattr(seg, name)
        assert mask.dtype == bool and mask.shape == image.shape[:2], name
    assert not (seg.hair & seg.skin).any()
    assert not (seg.excluded & (seg.hair | seg.skin)).any()
    assert not ((seg.hair | seg.skin) & ~seg.scalp).any()


def test_reference_pixels_are_in_no_other_mask():
    image, _ = _scene(10, dark=50)
    reference = np.zeros(image.shape[:2], bool)
    reference[20:120, 400:560] = True
    image[reference] = 0.46  # an 18 % grey card
    seg = _segment(image, reference_mask=reference)
    assert np.array_equal(seg.reference, reference)
    for name in ("scalp", "hair", "skin", "excluded"):
        assert not (getattr(seg, name) & reference).any(), name


def test_hair_and_skin_regions_limit_the_masks():
    image, truth = _scene(11, dark=60)
    hair_box = (100, 50, 200, 150)
    skin_box = (350, 250, 200, 150)
    seg = _segment(image, hair_region=hair_box, skin_region=skin_box)
    x, y, w, h = hair_box
    outside = np.ones(image.shape[:2], bool)
    outside[y : y + h, x : x + w] = False
    assert seg.hair.any() and not (seg.hair & outside).any()
    x, y, w, h = skin_box
    outside = np.ones(image.shape[:2], bool)
    outside[y : y + h, x : x + w] = False
    assert seg.skin.any() and not (seg.skin & outside).any()


@pytest.mark.parametrize("shape", [(480, 640), (512, 512)])
def test_segmentation_rotates_with_the_image(shape):
    """Segmenting in a canonical orientation makes every mask exactly equivariant under
    quarter turns (GrabCut's colour models and strided samples follow the raster order,
    so without it the masks moved by a few per cent)."""
    image, _ = _scene(12, shape=shape, dark=50, white=15, band=0.15, glare=True)
    seg = _segment(image)
    for turns in (1, 2, 3):
        seg_rotated = _segment(np.ascontiguousarray(np.rot90(image, turns)))
        for name in ("scalp", "hair", "skin", "excluded"):
            np.testing.assert_array_equal(getattr(seg_rotated, name), np.rot90(getattr(seg, name), turns), err_msg=name)


def test_regions_follow_the_canonical_rotation():
    """Practitioner rectangles are turned with the photo: the hair found inside a box is
    the same box's hair when the photo is rotated."""
    image, _ = _scene(13, dark=60)
    box = (40, 60, 200, 150)
    seg = _segment(image, hair_region=box)
    for turns in (1, 3):
        rotated = np.ascontiguousarray(np.rot90(image, turns))
        from shade_match.segmentation import _rotate_rect
        seg_rotated = _segment(rotated, hair_region=_rotate_rect(box, turns, image.shape[:2]))
        np.testing.assert_array_equal(seg_rotated.hair, np.rot90(seg.hair, turns))


def _ring_strands(rng, side, count, *, radii, angle_sd, lengths, thickness) -> np.ndarray:
    """A (side, side) uint8 image of *count* anti-aliased straight strands rooted at radii
    (fractions of *side*) around the centre, pointing outwards ± *angle_sd* radians."""
    strands = np.zeros((side, side), np.uint8)
    for _ in range(count):
        r = rng.uniform(*radii) * side
        theta = rng.uniform(0, 2 * np.pi)
        x0, y0 = side / 2 + r * np.cos(theta), side / 2 + r * np.sin(theta)
        angle = theta + rng.normal(0, angle_sd)
        length = rng.uniform(*lengths)
        x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
        cv2.line(strands, (int(x0), int(y0)), (int(x1), int(y1)), 255, thickness, cv2.LINE_AA)
    return strands


def _region_head(seed=0, size=640, hair=True):
    """A whole head at region scale: a disc of skin with a textured hair ring of
    sub-pixel strands (drawn at 4× and area-averaged), on a plain background."""
    rng = np.random.default_rng(seed)
    big = size * 4
    image = np.empty((big, big, 3), np.float32)
    image[:] = _srgb((80.0, 2.0, 8.0))
    yy, xx = np.mgrid[:big, :big]
    radius = np.hypot(yy - big / 2, xx - big / 2)
    head = radius <= 0.36 * big
    image[head] = _srgb(SKIN_LAB)
    ring = head & (radius >= 0.2 * big)
    if hair:
        coverage = _ring_strands(rng, big, 9000, radii=(0.2, 0.36), angle_sd=0.4, lengths=(20, 60), thickness=3)
        alpha = (coverage.astype(np.float32) / 255.0) * ring
        image = _paint(image, alpha, DARK_HAIR_LAB)
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    small = np.clip(small + rng.normal(0, 0.006, small.shape), 0, 1).astype(np.float32)
    ring_small = cv2.resize(ring.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)
    head_small = cv2.resize(head.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)
    return small, ring_small, head_small


def test_region_scale_hair_ring_is_found_and_bald_crown_is_skin():
    image, ring, head = _region_head(13)
    seg = _segment(image)
    crown = head & ~cv2.dilate(ring.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    hair_in_ring = np.count_nonzero(seg.hair & ring) / np.count_nonzero(ring)
    hair_in_crown = np.count_nonzero(seg.hair & crown) / np.count_nonzero(crown)
    assert hair_in_ring >= 0.5, hair_in_ring
    assert hair_in_crown <= 0.05, hair_in_crown
    assert np.count_nonzero(seg.skin & crown) >= 0.3 * np.count_nonzero(crown)
    scalp_iou = np.count_nonzero(seg.scalp & head) / np.count_nonzero(seg.scalp | head)
    assert scalp_iou >= 0.85, scalp_iou


def test_region_scale_bald_head_has_no_hair():
    image, _, head = _region_head(14, hair=False)
    seg = _segment(image)
    assert np.count_nonzero(seg.hair) == 0


def test_coverage_is_hair_over_scalp():
    shape = (10, 10)
    scalp = np.zeros(shape, bool)
    scalp[:, :5] = True
    hair = np.zeros(shape, bool)
    hair[:2, :5] = True
    empty = np.zeros(shape, bool)
    seg = Segmentation(scalp=scalp, hair=hair, skin=empty, excluded=empty, reference=empty)
    assert seg.coverage == pytest.approx(10 / 50)
    assert Segmentation(scalp=empty, hair=empty, skin=empty, excluded=empty, reference=empty).coverage == 0.0


@pytest.mark.parametrize(
    "rgb, lab, kwargs, message",
    [
        (np.zeros((20, 20), np.float32), np.zeros((20, 20), np.float32), {}, "rgb must be an (H, W, 3)"),
        (np.zeros((20, 20, 3), np.float32), np.zeros((10, 10, 3), np.float32), {}, "lab must have the shape"),
        (np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20, 3), np.float32), {}, "float sRGB"),
        (np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 3), np.float32), {"reference_mask": np.zeros((5, 5), bool)}, "reference_mask must have shape"),
        (np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 3), np.float32), {"hair_region": (30, 0, 5, 5)}, "hair_region must lie inside"),
        (np.zeros((20, 20, 3), np.float32), np.zeros((20, 20, 3), np.float32), {"skin_region": (0, 0, 0, 5)}, "skin_region must lie inside"),
    ],
)
def test_bad_inputs_raise_settings_error(rgb, lab, kwargs, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        segment(rgb, lab, **kwargs)


def test_large_image_is_segmented_at_reduced_size_and_masks_scaled_back():
    image, truth = _scene(15, shape=(1200, 1600), dark=150, strand_width=6, band=0.15)
    seg = _segment(image, hair_region=(400, 100, 800, 900))
    assert seg.hair.shape == image.shape[:2] and seg.scalp.shape == image.shape[:2]
    inside = np.zeros(image.shape[:2], bool)
    inside[100:1000, 400:1200] = True
    assert not (seg.hair & ~inside).any()
    precision, recall = _precision_recall(seg.hair, truth["hair"] & inside)
    assert precision >= 0.7 and recall >= 0.7, (precision, recall)
    band_in_scalp = np.count_nonzero(seg.scalp & truth["band"]) / np.count_nonzero(truth["band"])
    assert band_in_scalp <= 0.05


def _fair_crown_in_smooth_blond(seed=0, shape=(480, 640)):
    """A fair bald crown (Monk 1-like, L* 93) inside dense blond hair that is smooth at
    640 px (unresolved), with resolved blond strands along the crown's edge."""
    rng = np.random.default_rng(seed)
    blond, fair = (76.0, 7.0, 25.0), (93.0, 4.0, 5.0)
    image = np.broadcast_to(_srgb(blond), shape + (3,)).astype(np.float32).copy()
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    radius = np.hypot(yy - shape[0] / 2, xx - shape[1] / 2)
    crown = radius <= 0.22 * shape[0]
    image[crown] = _srgb(fair)
    coverage = np.zeros(shape, np.uint8)
    for _ in range(120):
        theta = rng.uniform(0, 2 * np.pi)
        r = 0.22 * shape[0] + rng.uniform(-6, 6)
        x0, y0 = shape[1] / 2 + r * np.cos(theta), shape[0] / 2 + r * np.sin(theta)
        angle = theta + np.pi + rng.normal(0, 0.5)
        length = rng.uniform(15, 35)
        cv2.line(coverage, (int(x0), int(y0)), (int(x0 + length * np.cos(angle)), int(y0 + length * np.sin(angle))), 255, 3, cv2.LINE_AA)
    image = _paint(image, coverage.astype(np.float32) / 255.0, (70.0, 8.0, 28.0))
    image = np.clip(image + rng.normal(0, 0.006, image.shape), 0, 1).astype(np.float32)
    return image, crown & (coverage == 0), ~crown


def test_fair_crown_beside_smooth_blond_hair_is_skin_not_glare():
    """A lighter, paler *material* is not a highlight (dichromatic test), and a smooth
    second material in the skin mask nearer the hair's colour is unresolved hair."""
    image, crown, blond = _fair_crown_in_smooth_blond(21)
    seg = _segment(image)
    assert np.count_nonzero(seg.excluded & crown) <= 0.05 * np.count_nonzero(crown)
    skin_precision, skin_recall = _precision_recall(seg.skin, crown)
    assert skin_precision >= 0.95, skin_precision
    assert skin_recall >= 0.3, skin_recall
    assert np.count_nonzero(seg.skin & blond) <= 0.02 * np.count_nonzero(blond)


def test_highlight_on_skin_is_still_glare():
    """A highlight adds neutral light to the skin: it stays excluded."""
    image, truth = _scene(31, dark=40, glare=True)
    seg = _segment(image)
    assert np.count_nonzero(seg.excluded & truth["glare"]) >= 0.8 * np.count_nonzero(truth["glare"])



@pytest.mark.parametrize("seed", [3, 8])
def test_grey_strands_among_dark_strands_on_dark_skin_are_hair_not_skin(seed):
    """Salt-and-pepper hair on dark, low-chroma skin (a rendered close-up of known
    colour): the light lines are both the skin between dense black strands and the grey
    strands. The grey ones are hair and must not become the skin, whatever the skin's
    chroma. (Before the fix the skin read as the grey strands: ΔE00 ≈ 55.)"""
    from shade_match.analysis import analyze_image
    from shade_match.synthetic import SceneSpec, render_scalp_photo

    spec = SceneSpec(
        hair_lab=(12.0, -2.5, -0.5), skin_lab=(26.0, 5.0, 1.5), grey_fraction=0.26, hair_density=0.7,
        strand_width_px=5.5, strand_length_px=150.0, scale="strand", cct_kelvin=6504.0,
        white_balanced=True, exposure=1.0, shading=0.2, glare=0.0, noise_sigma=1.5, jpeg_quality=None,
        background=False, scar=False, reference="none", size=(800, 600), seed=seed, grey_lab=(86.0, 0.5, 6.0),
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb)
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 3.0
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) <= 3.0


def test_a_charts_dark_frame_is_not_hair():
    """The reference mask is the chart's patch area; its dark frame is a line around it
    and must not become hair on a bald scalp."""
    image, _ = _scene(17, dark=0)
    reference = np.zeros(image.shape[:2], bool)
    reference[200:330, 380:580] = True
    frame = np.zeros_like(reference)
    frame[195:335, 375:585] = True
    frame &= ~reference
    image[reference] = 0.46
    image[frame] = 0.05  # a 5-px black frame around the patches
    seg = _segment(image, reference_mask=reference)
    assert not seg.hair.any()
    np.testing.assert_array_equal(seg.reference, reference)



def test_pale_crown_inside_saturated_red_hair_is_skin_not_glare():
    """A rendered whole head (region scale, known layout): a pale bald crown amid
    saturated red hair differs from the hair by a nearly white colour, as a highlight
    would; but it is smooth where the hair around it is textured, so it is skin, not
    glare. (Before the texture test 95 % of the crown was excluded as glare.)"""
    from shade_match.analysis import inspect_image
    from shade_match.synthetic import SceneSpec, render_scalp_photo

    spec = SceneSpec(
        hair_lab=(45.5, 38.8, 31.4), skin_lab=(93.7, 2.3, 9.6), grey_fraction=0.0, hair_density=0.32,
        strand_width_px=0.46, strand_length_px=17.6, scale="region", cct_kelvin=3870.5,
        white_balanced=True, exposure=0.97, shading=0.35, glare=0.0, noise_sigma=2.1, jpeg_quality=62,
        background=True, scar=False, reference="none", size=(640, 640), seed=175904891,
        skin_texture=0.78, strand_jitter=1.46, wb_gain_error=(0.995, 1.0, 1.044), blur_sigma_px=0.55,
        background_hex="#C9B193",
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    seg = inspect_image(photo.rgb).segmentation
    crown = photo.skin_mask & photo.scalp_mask
    assert np.count_nonzero(seg.excluded & crown) <= 0.1 * np.count_nonzero(crown)
    assert np.count_nonzero(seg.skin & crown) >= 0.4 * np.count_nonzero(crown)


def _head_on_wall(seed, wall_lab, *, size=640, hair_lab=DARK_HAIR_LAB, skin_lab=SKIN_LAB, crown=0.17):
    """A region-scale whole head (as in a 640 px photo): a smooth wall of *wall_lab*, a
    head disc with a bald crown of radius *crown* (fraction of *size*; 0: none) and a
    ring of fine (1 px) strands around it (with no crown, a disc of them), dense enough
    to read as a textured region. Returns the image, the head mask and the wall mask."""
    rng = np.random.default_rng(seed)
    shape = (size, size)
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    head = radius <= 0.34 * size
    bald = crown > 0
    crown = radius <= crown * size
    low = cv2.resize(rng.normal(0, 1, (8, 8)).astype(np.float32), shape, interpolation=cv2.INTER_CUBIC)
    wall = np.exp(0.03 * low)[..., None] * _srgb(wall_lab)[None, None, :]
    skin = _skin_field(rng, shape)
    if skin_lab != SKIN_LAB:
        skin = skin * (_srgb(skin_lab) / _srgb(SKIN_LAB))[None, None, :]
    image = np.where(head[..., None], skin, wall + rng.normal(0, 0.006, (*shape, 3)))
    inner = 0.18 if bald else 0.0
    strands = _ring_strands(rng, size, 4000, radii=(inner, 0.33), angle_sd=0.6, lengths=(6, 20), thickness=1)
    alpha = (strands.astype(np.float32) / 255) * (head & ~crown)
    image = _paint(image, alpha, hair_lab)
    return np.clip(image, 0, 1).astype(np.float32), head, ~head


@pytest.mark.parametrize(
    "wall_lab, hair_lab, skin_lab",
    [
        (DARK_HAIR_LAB, DARK_HAIR_LAB, SKIN_LAB),  # a dark wall behind dark hair
        ((78.0, 9.0, 12.0), (78.0, 5.0, 10.0), (64.0, 16.0, 20.0)),  # beige wall, blond hair
    ],
)
def test_region_scale_head_on_a_hair_coloured_wall_is_not_a_close_up(wall_lab, hair_lab, skin_lab):
    # The wall has the hair's colour, so colour alone finds no background at the border
    # and the photo used to be taken for a close-up filling the frame: skin was then
    # measured on the wall. The wall is smooth and cut off from the crown by the hair.
    image, head, wall = _head_on_wall(3, wall_lab, hair_lab=hair_lab, skin_lab=skin_lab)
    seg = _segment(image)
    assert np.count_nonzero(seg.scalp & wall) <= 0.05 * np.count_nonzero(seg.scalp), "scalp spills onto the wall"
    assert np.count_nonzero(seg.skin & wall) <= 0.05 * np.count_nonzero(seg.skin), "skin measured on the wall"
    assert np.count_nonzero(seg.scalp & head) >= 0.9 * np.count_nonzero(head)


@pytest.mark.parametrize(
    "wall_lab, hair_lab",
    [
        ((45.0, 1.0, 2.0), DARK_HAIR_LAB),  # a grey wall, between the skin and the dark hair
        ((72.0, 9.0, 13.0), WHITE_HAIR_LAB),  # a pale wall, between the skin and the white hair
    ],
)
def test_a_head_with_no_bald_crown_on_a_wall_of_its_colours_is_not_a_close_up(wall_lab, hair_lab):
    # Hair all over the head: the central disc has no smooth skin to start from, and
    # its colours (skin through hair) include the wall's. The photo used to be taken for
    # a close-up filling the frame, and the skin measured on the wall. The wall is a
    # smooth band at the border cut off from the textured centre.
    image, head, wall = _head_on_wall(4, wall_lab, hair_lab=hair_lab, crown=0.0)
    seg = _segment(image)
    assert np.count_nonzero(seg.scalp & wall) <= 0.05 * np.count_nonzero(seg.scalp), "scalp spills onto the wall"
    assert np.count_nonzero(seg.skin & wall) <= 0.05 * max(1, np.count_nonzero(seg.skin)), "skin measured on the wall"
    assert np.count_nonzero(seg.scalp & head) >= 0.9 * np.count_nonzero(head)


def test_dense_grey_and_black_hair_all_over_the_head_in_front_of_a_grey_wall():
    """A rendered whole head of known colour (the generator's neutral grey wall, #9A9A96),
    with 63 % grey strands among black ones all over the crown. The wall was taken for
    scalp (scalp precision 0.39, the skin measured on the wall) before a centre without
    smooth skin was handled. (Where the skin is measured inside the head is another
    matter: almost none shows between the strands.) Seed 6: since the generator draws
    heads that may reach the frame, the evaluation's seed gives a head cut by the top
    edge; seed 6 gives the scene this test was written for, whose scalp precision is
    0.49 without the rule (checked by turning ``_structure_evidence`` off)."""
    from shade_match.analysis import inspect_image
    from shade_match.synthetic import SceneSpec, render_scalp_photo

    spec = SceneSpec(
        hair_lab=(15.1, 4.9, -3.9), skin_lab=(96.0, -0.3, 7.6), grey_fraction=0.63, hair_density=0.32,
        strand_width_px=0.82, strand_length_px=21.7, scale="region", cct_kelvin=6504.0, white_balanced=True,
        exposure=1.0, shading=0.38, glare=0.0, noise_sigma=0.55, jpeg_quality=91, background=True, scar=False,
        reference="none", size=(640, 640), seed=6, grey_lab=(85.0, -0.7, 0.5), background_hex="#9A9A96",
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    inspection = inspect_image(photo.rgb)
    scalp = inspection.segmentation.scalp
    precision = np.count_nonzero(scalp & photo.scalp_mask) / np.count_nonzero(scalp)
    assert precision >= 0.9, precision
    assert np.count_nonzero(scalp & photo.scalp_mask) >= 0.95 * np.count_nonzero(photo.scalp_mask)


def test_close_up_of_skin_between_sparse_strands_still_fills_the_frame():
    # Skin patches at the border cut off from the centre by strands are the same skin:
    # no background evidence, the whole frame is scalp.
    image, _ = _scene(5, dark=150, strand_width=3)
    seg = _segment(image)
    assert seg.scalp.mean() >= 0.99


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_dense_hair_is_not_taken_for_the_skin_between_it(seed):
    """Dense brown stubble (80 % coverage, a rendered close-up of known colour) is smooth
    to the line detectors and became the "skin", while the real skin, seen only between
    the hairs, was left out of both masks: hair and skin came out the same colour (skin
    ΔE00 26–28 on these three scenes before the fix). The second material must be found
    and taken as the skin, and the practitioner told to check it."""
    from shade_match.analysis import analyze_image
    from shade_match.synthetic import SceneSpec, render_scalp_photo

    spec = SceneSpec(
        hair_lab=(40.0, 9.0, 11.0), skin_lab=(67.0, 14.5, 19.5), grey_fraction=0.0, hair_density=0.86,
        strand_width_px=7.8, strand_length_px=37.0, scale="strand", cct_kelvin=6504.0,
        white_balanced=True, exposure=1.0, shading=0.2, glare=0.0, noise_sigma=2.0, jpeg_quality=80,
        background=False, scar=False, reference="none", size=(640, 480), seed=seed, grey_lab=(80.0, 0.5, 6.0),
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb)
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 4.0
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) <= 3.0
    assert any("hard to tell apart" in warning for warning in analysis.warnings), analysis.warnings


@pytest.mark.parametrize(
    "hair_lab, skin_lab",
    [
        ((80.0, 8.0, 21.0), (21.0, 7.0, 6.0)),  # blond stubble on very dark skin
        ((70.0, 1.0, 9.0), (93.0, 2.0, 18.0)),  # light grey stubble on very fair skin
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_short_strands_are_the_hair_not_the_skin_around_them(hair_lab, skin_lab, seed):
    """Sparse, short, thick stubble (a quarter of the scalp): both line detectors fire,
    the strands as lines and the skin between them as lines of the other polarity, and
    the skin, being the connected background, looked like the "network" of hair. The
    hair is the polarity whose width is constant (before the fix these scenes read the
    skin as the hair: skin ΔE00 16–60 on these four scenes). The photo's own colours
    are measured (``correction="none"``) so that only the segmentation is tested."""
    from shade_match.analysis import AnalysisSettings, analyze_image
    from shade_match.synthetic import SceneSpec, render_scalp_photo

    spec = SceneSpec(
        hair_lab=hair_lab, skin_lab=skin_lab, grey_fraction=0.0, hair_density=0.25,
        strand_width_px=6.0, strand_length_px=18.0, scale="strand", cct_kelvin=6504.0,
        white_balanced=True, exposure=1.0, shading=0.0, glare=0.0, noise_sigma=0.8, jpeg_quality=80,
        background=False, scar=False, reference="none", size=(640, 480), seed=seed, grey_lab=(80.0, 0.5, 6.0),
    )  # fmt: skip
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb, settings=AnalysisSettings(correction="none"))
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 3.0
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) <= 3.0


def test_ridge_widths_tell_strands_from_the_skin_between_them():
    """Strands of one width have nearly constant half-widths on their medial ridge; the
    skin around them (the complement) does not. Both numbers ignore quarter turns."""
    from shade_match.segmentation.lines import _ridge_widths

    rng = np.random.default_rng(4)
    strands = _draw_strands(rng, (300, 400), 60, 7, length=(20, 40)) >= 0.5
    width, variation = _ridge_widths(strands)
    assert 3.0 <= width <= 5.5  # about half of the ~8 px drawn width (7 px line, anti-aliased)
    _, skin_variation = _ridge_widths(~strands)
    assert skin_variation >= variation + 0.15
    assert _ridge_widths(np.rot90(strands).copy()) == pytest.approx((width, variation), abs=1e-6)
    assert _ridge_widths(np.zeros((20, 20), bool)) == (0.0, 0.0)


@pytest.mark.parametrize("seed", [681514289, 3])
def test_bald_crown_inside_a_dense_ring_of_black_hair_is_skin_at_region_scale(seed):
    """Region scale (640 px whole head, hairs under a pixel): a fair bald crown inside a
    dense ring of black hair. The light "lines" are skin islands in the ring, as
    irregular as the ring is and darker than the crown; without the check that light
    strands are lighter than the pixels between them, the width test took the crown
    for the hair (skin and hair ΔE00 ≈ 73–75 on the render this is modelled on, seed
    681514289)."""
    from dataclasses import replace

    from shade_match.analysis import AnalysisSettings, analyze_image
    from shade_match.evaluate import _photo_seed
    from shade_match.synthetic import random_spec, render_scalp_photo

    spec = random_spec(np.random.default_rng(_photo_seed(1000, "cast-no-reference", 97)), condition="cast-no-reference")
    spec = replace(spec, cct_kelvin=6504.0, white_balanced=True, seed=seed)
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb, settings=AnalysisSettings(correction="none"))
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 5.0
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) <= 8.0


@pytest.mark.parametrize("case", [("cast-grey-card", 19), ("cast-grey-card", 174)])
def test_sparse_short_dark_strands_keep_their_polarity_when_lines_cover_the_scalp(case):
    """Short dark strands (20–30 % density) on lighter skin, the lines of both kinds
    covering nearly the whole scalp: the side check of the width test must compare
    the strands with the pixels clear of every line, not with the few fringe pixels
    merely off the line masks (comparing with those vetoed the right polarity and
    the skin read ΔE00 30–36 on the renders these are taken from, evaluation seed
    1000)."""
    from dataclasses import replace

    from shade_match.analysis import AnalysisSettings, analyze_image
    from shade_match.evaluate import _photo_seed
    from shade_match.synthetic import random_spec, render_scalp_photo

    condition, index = case
    spec = random_spec(np.random.default_rng(_photo_seed(1000, condition, index)), condition=condition)
    photo = render_scalp_photo(spec)  # a colour cast, and a grey card whose box is given
    settings = AnalysisSettings(correction="grey-card", grey_card=photo.reference_box)
    analysis = analyze_image(photo.rgb, settings=settings)
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 5.0
    assert deltaE_ciede2000(np.array(analysis.hair.lab), np.array(photo.true_hair_lab)) <= 8.0


@pytest.mark.parametrize("case", [("cast-grey-card", 48), ("cast-chart", 31), ("cast-grey-card", 161)])
def test_a_bald_scalp_with_a_speckled_highlight_has_no_hair(case):
    """A specular highlight on a bald scalp is speckled (sebum, skin texture): its
    bright specks and the darker gaps between them are "lines", and the part not
    excluded as glare became hair (three bald renders of the evaluation, seed 0, that
    reported hair). Hair found only around the highlight is no hair."""
    from shade_match.analysis import analyze_image, AnalysisSettings
    from shade_match.evaluate import _photo_seed
    from shade_match.synthetic import random_spec, render_scalp_photo

    condition, index = case
    spec = random_spec(np.random.default_rng(_photo_seed(0, condition, index)), condition=condition)
    assert spec.hair_density == 0.0 and spec.glare > 0.2  # the scene is bald, with glare
    photo = render_scalp_photo(spec)
    analysis = analyze_image(photo.rgb, settings=AnalysisSettings(correction="auto"))
    assert analysis.hair is None
    assert deltaE_ciede2000(np.array(analysis.skin.lab), np.array(photo.true_skin_lab)) <= 3.0


def _dense_hair_over(gap_lab, seed=3, shape=(480, 640)):
    """Dense dark-brown strands (L* 24) over a flat field of *gap_lab*: a back view of
    full hair whose gaps are shadow (or, at Monk 10, the darkest skin)."""
    rng = np.random.default_rng(seed)
    base = np.broadcast_to(_srgb(gap_lab), shape + (3,)) + rng.normal(0, 0.004, shape + (3,))
    alpha = _draw_strands(rng, shape, 700, 4, length=(60, 160))
    return np.clip(_paint(base.astype(np.float32), alpha, (24.0, 5.0, 8.0)), 0, 1).astype(np.float32)


def test_skin_darker_than_any_skin_tone_is_not_measured():
    # Gaps between dense strands at L* 4 are shadow in the hair: no skin, and a warning
    # that says why. The darkest Monk tone (#292420, L* 14.6) between the same strands
    # is still skin, and a skin region marked by hand is measured whatever it reads.
    seg = _segment(_dense_hair_over((4.0, 1.0, 1.0)))
    assert not seg.skin.any() and seg.hair.mean() > 0.5
    assert any("darker than any skin tone" in w for w in seg.warnings)
    monk10 = _dense_hair_over((14.6, 1.5, 3.5))
    seg10 = _segment(monk10)
    assert seg10.skin.any() and not any("darker than any skin tone" in w for w in seg10.warnings)
    assert np.median(_lab_of(monk10)[..., 0][seg10.skin]) == pytest.approx(14.6, abs=1.5)
    marked = _segment(_dense_hair_over((4.0, 1.0, 1.0)), skin_region=(100, 100, 200, 200))
    assert marked.skin.any() and not any("darker than any skin tone" in w for w in marked.warnings)
