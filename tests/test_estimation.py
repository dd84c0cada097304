"""Tests of shade_match.estimation against colours known by construction.

Independent numbers come from scikit-image (``skimage.color.rgb2lab``/``lab2rgb``, D65
2°) and from CIEDE2000 in ``skimage.color.deltaE_ciede2000``.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from shade_match.errors import SettingsError
from shade_match.estimation import (
    MIN_PIXELS,
    ToneEstimate,
    estimate_hair,
    estimate_skin,
    estimate_tone,
    grey_hair_mask,
)
from shade_match.segmentation import Segmentation

SKIN_LAB = (62.0, 14.0, 19.0)
HAIR_LAB = (22.0, 4.0, 6.0)
GREY_LAB = (80.0, 0.0, 2.0)


def _srgb(lab) -> np.ndarray:
    return lab2rgb(np.asarray(lab, dtype=np.float64).reshape(1, 1, 3)).reshape(3)


def _delta_e(lab1, lab2) -> float:
    return float(deltaE_ciede2000(np.asarray(lab1, float), np.asarray(lab2, float)))


def _noisy_patch(rng, lab, shape, sigma=0.01):
    patch = np.broadcast_to(_srgb(lab), shape + (3,)) + rng.normal(0, sigma, shape + (3,))
    return np.clip(patch, 0, 1).astype(np.float32)


def _segmentation(shape, *, hair=None, skin=None):
    empty = np.zeros(shape, bool)
    return Segmentation(
        scalp=np.ones(shape, bool),
        hair=empty if hair is None else hair,
        skin=empty if skin is None else skin,
        excluded=empty,
        reference=empty,
    )


def test_robust_centre_recovers_colour_despite_outliers():
    rng = np.random.default_rng(0)
    image = _noisy_patch(rng, SKIN_LAB, (100, 100))
    outliers = rng.random((100, 100)) < 0.15  # pores and strand edges: one-sided, darker
    image[outliers] = _srgb((20, 3, 4))
    estimate = estimate_tone(image, np.ones((100, 100), bool))
    assert _delta_e(estimate.lab, SKIN_LAB) <= 0.6
    # The plain mean would be dragged far off: the test can fail.
    plain_mean = rgb2lab(image.reshape(-1, 1, 3).astype(np.float64).mean(axis=0, keepdims=True)).reshape(3)
    assert _delta_e(plain_mean, SKIN_LAB) > 2.0


def test_centre_is_the_linear_light_mean_of_a_two_colour_texture():
    """A fine checkerboard of two close colours is seen as their mean *radiance*."""
    lab_a, lab_b = (60.0, 12.0, 18.0), (64.0, 14.0, 20.0)
    image = np.empty((64, 64, 3), np.float32)
    checker = (np.indices((64, 64)).sum(axis=0) % 2).astype(bool)
    image[checker] = _srgb(lab_a)
    image[~checker] = _srgb(lab_b)
    estimate = estimate_tone(image, np.ones((64, 64), bool))
    linear = lambda c: np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)  # IEC 61966-2-1
    encode = lambda c: np.where(c > 0.0031308, 1.055 * c ** (1 / 2.4) - 0.055, 12.92 * c)
    mean_linear = (linear(_srgb(lab_a).astype(np.float32).astype(np.float64)) + linear(_srgb(lab_b).astype(np.float32).astype(np.float64))) / 2
    expected = rgb2lab(encode(mean_linear).reshape(1, 1, 3)).reshape(3)
    np.testing.assert_allclose(estimate.lab, expected, atol=0.02)


def test_spread_is_the_scaled_mad_of_lab():
    rng = np.random.default_rng(1)
    image = _noisy_patch(rng, SKIN_LAB, (120, 120), sigma=0.02)
    estimate = estimate_tone(image, np.ones((120, 120), bool))
    lab = rgb2lab(image.astype(np.float64)).reshape(-1, 3)
    expected = 1.4826 * np.median(np.abs(lab - np.median(lab, axis=0)), axis=0)
    np.testing.assert_allclose(estimate.spread, expected, rtol=0.05, atol=0.05)
    assert estimate.pixel_count >= 0.85 * 120 * 120  # a 3-D normal keeps ~90 % within 2.5σ


def test_confidence_grows_with_pixel_count():
    rng = np.random.default_rng(2)
    image = _noisy_patch(rng, SKIN_LAB, (200, 200), sigma=0.03)
    small = np.zeros((200, 200), bool)
    small[:8, :8] = True  # 64 pixels
    large = np.ones((200, 200), bool)
    few = estimate_tone(image, small)
    many = estimate_tone(image, large)
    assert 0.0 <= few.confidence < many.confidence <= 1.0


def test_confidence_is_lower_for_a_bimodal_set():
    rng = np.random.default_rng(3)
    unimodal = _noisy_patch(rng, SKIN_LAB, (100, 100))
    bimodal = unimodal.copy()
    bimodal[:, ::2] = _noisy_patch(rng, HAIR_LAB, (100, 50))
    mask = np.ones((100, 100), bool)
    assert estimate_tone(bimodal, mask).confidence < 0.5 * estimate_tone(unimodal, mask).confidence


def test_too_few_pixels_give_none():
    image = np.full((20, 20, 3), 0.5, np.float32)
    mask = np.zeros((20, 20), bool)
    mask.flat[: MIN_PIXELS - 1] = True
    assert estimate_tone(image, mask) is None


def test_estimate_is_unchanged_by_pixel_order():
    rng = np.random.default_rng(4)
    image = _noisy_patch(rng, SKIN_LAB, (90, 70), sigma=0.03)
    mask = rng.random((90, 70)) < 0.6
    first = estimate_tone(image, mask)
    rotated = estimate_tone(np.ascontiguousarray(np.rot90(image)), np.rot90(mask))
    assert _delta_e(first.lab, rotated.lab) < 1e-6
    assert first.pixel_count == rotated.pixel_count


def test_no_hair_gives_none_and_skin_is_measured():
    rng = np.random.default_rng(5)
    image = _noisy_patch(rng, SKIN_LAB, (80, 80))
    seg = _segmentation((80, 80), skin=np.ones((80, 80), bool))
    assert estimate_hair(image, seg) is None
    skin = estimate_skin(image, seg)
    assert isinstance(skin, ToneEstimate)
    assert _delta_e(skin.lab, SKIN_LAB) <= 0.5
    assert skin.grey_fraction == 0.0


def _strand_scene(rng, grey_share, *, skin_lab=SKIN_LAB, hair_lab=HAIR_LAB, grey_lab=GREY_LAB):
    """Skin with vertical 3-px strands: pigmented and grey ones in a known share."""
    shape = (120, 240)
    image = _noisy_patch(rng, skin_lab, shape)
    hair = np.zeros(shape, bool)
    skin = np.ones(shape, bool)
    columns = list(range(4, shape[1] - 4, 8))
    n_grey = round(grey_share * len(columns))
    for k, x in enumerate(columns):
        colour_lab = grey_lab if k < n_grey else hair_lab
        image[:, x : x + 3] = _noisy_patch(rng, colour_lab, (shape[0], 3))
        hair[:, x : x + 3] = True
        skin[:, x - 2 : x + 5] = False
    return image, hair, skin, n_grey / len(columns)


def test_hair_colour_is_the_pigmented_strands_and_grey_fraction_is_counted():
    rng = np.random.default_rng(6)
    image, hair, skin, share = _strand_scene(rng, 0.3)
    estimate = estimate_hair(image, _segmentation(hair.shape, hair=hair, skin=skin))
    assert _delta_e(estimate.lab, HAIR_LAB) <= 1.0
    assert estimate.grey_fraction == pytest.approx(share, abs=0.03)


def test_grey_strands_darker_than_fair_skin_are_still_grey():
    """Blond with grey on very fair skin: the grey strands are darker than the skin, so
    "lighter than the skin" cannot tell them from mixtures; the unmixing does."""
    rng = np.random.default_rng(9)
    fair, blond, grey = (93.0, 2.0, 12.0), (55.0, 15.0, 30.0), (78.0, 0.0, 4.0)
    image, hair, skin, share = _strand_scene(rng, 0.6, skin_lab=fair, hair_lab=blond, grey_lab=grey)
    estimate = estimate_hair(image, _segmentation(hair.shape, hair=hair, skin=skin))
    assert _delta_e(estimate.lab, blond) <= 1.5
    assert estimate.grey_fraction == pytest.approx(share, abs=0.05)


def test_salt_and_pepper_pixels_mixing_both_strands_give_the_pigmented_colour():
    """Where grey and pigmented strands share pixels (coverage-weighted means), the
    centre comes from the most pigmented pixels, not the average grey-brown."""
    rng = np.random.default_rng(10)
    image, hair, skin, _ = _strand_scene(rng, 0.5)
    mixed = np.zeros_like(hair)
    for x in range(4, hair.shape[1] - 4, 8):
        mixed[::2, x : x + 3] = True  # every other row: half grey, half pigmented strand
    linear = 0.5 * _srgb(GREY_LAB) ** 2.2 + 0.5 * _srgb(HAIR_LAB) ** 2.2
    image[mixed] = linear ** (1 / 2.2)
    estimate = estimate_hair(image, _segmentation(hair.shape, hair=hair, skin=skin))
    assert _delta_e(estimate.lab, HAIR_LAB) <= 2.0
    average = estimate_tone(image, hair)
    assert _delta_e(average.lab, HAIR_LAB) > 10.0  # the plain centre is far off: the test can fail


def test_sub_pixel_salt_and_pepper_takes_the_more_pigmented_half():
    """Sub-pixel salt-and-pepper hair: every hair pixel mixes skin, pigmented and grey
    strands in shares known by construction (α pigmented, uniform 0.2–0.9; γ grey), so
    no pixel is pure and the α histogram has no peak. The hair is then the robust centre
    of the more pigmented half (α at or above its median, PURE_EXTREME_SHARE), not of
    the darkest tenth, which on real photos is the hair's shadow (see the constant)."""
    rng = np.random.default_rng(12)
    shape = (120, 240)
    image = _noisy_patch(rng, SKIN_LAB, shape)
    hair = np.zeros(shape, bool)
    hair[:, 120:] = True
    skin = ~hair
    skin[:, 110:120] = False
    skin_linear, hair_linear, grey_linear = (_srgb(lab) ** 2.2 for lab in (SKIN_LAB, HAIR_LAB, GREY_LAB))
    n = int(np.count_nonzero(hair))
    alpha = rng.uniform(0.2, 0.9, n)
    gamma = rng.uniform(0.0, 1.0, n) * (1.0 - alpha)
    linear = skin_linear + alpha[:, None] * (hair_linear - skin_linear) + gamma[:, None] * (grey_linear - skin_linear)
    image[hair] = np.clip(linear, 0, 1) ** (1 / 2.2)

    def top(share):
        mask = np.zeros(shape, bool)
        mask.ravel()[np.flatnonzero(hair.ravel())[alpha >= np.quantile(alpha, 1.0 - share)]] = True
        return estimate_tone(image, mask).lab

    estimate = estimate_hair(image, _segmentation(shape, hair=hair, skin=skin))
    assert 0.2 <= estimate.grey_fraction <= 0.5  # the grey endmember was found
    assert _delta_e(estimate.lab, top(0.5)) <= 1.5
    assert _delta_e(top(0.5), top(0.1)) >= 5.0  # the two readings differ: the test can fail


def test_all_grey_hair_is_measured_as_grey():
    rng = np.random.default_rng(7)
    image, hair, skin, share = _strand_scene(rng, 1.0)
    estimate = estimate_hair(image, _segmentation(hair.shape, hair=hair, skin=skin))
    assert share == 1.0
    assert _delta_e(estimate.lab, GREY_LAB) <= 1.0
    assert estimate.grey_fraction >= 0.97


def test_hair_core_reduces_skin_mixing():
    """Hair pixels half mixed with skin (strand edges) do not pull the hair colour to the skin."""
    rng = np.random.default_rng(8)
    image, hair, skin, _ = _strand_scene(rng, 0.0)
    edges = np.zeros_like(hair)
    for x in range(4, hair.shape[1] - 4, 8):
        edges[:, x + 3] = True  # one mixed column beside each strand
    mixed_linear = 0.5 * (_srgb(SKIN_LAB) ** 2.2) + 0.5 * (_srgb(HAIR_LAB) ** 2.2)
    image[edges] = mixed_linear ** (1 / 2.2)
    seg = _segmentation(hair.shape, hair=hair | edges, skin=skin & ~edges)
    estimate = estimate_hair(image, seg)
    assert _delta_e(estimate.lab, HAIR_LAB) <= 1.5


def test_grey_hair_mask_rules():
    pixels = np.array([[80.0, 0.0, 2.0], [20.0, 1.0, 1.0], [80.0, 10.0, 20.0], [50.0, 1.0, 2.0]])
    np.testing.assert_array_equal(grey_hair_mask(pixels), [True, False, False, True])
    # Lighter than the skin is required when the skin is known (a dark-hair/skin mixture
    # is greyish but darker than the skin).
    np.testing.assert_array_equal(grey_hair_mask(pixels, skin_lab=(60, 10, 15)), [True, False, False, False])


def test_mismatched_sizes_raise():
    image = np.zeros((10, 10, 3), np.float32)
    with pytest.raises(SettingsError, match="differ in size"):
        estimate_hair(image, _segmentation((12, 12)))
    with pytest.raises(SettingsError, match="the mask"):
        estimate_tone(image, np.ones((5, 5), bool))
