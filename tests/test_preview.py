"""Tests of shade_match.preview: Poisson-disk dots and the healed-look rendering."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image
from scipy.spatial import cKDTree

from shade_match import colour
from shade_match.errors import SettingsError
from shade_match.preview import (
    COOL_SHIFT_LAB,
    EPIDERMAL_TRANSMITTANCE,
    compare_previews,
    poisson_disk_points,
    preview_montage,
    render_preview,
    write_previews,
)

with warnings.catch_warnings():  # colour-science warns at import when matplotlib is absent
    warnings.simplefilter("ignore")
    import colour as colour_science


def scalp_scene(size=160, seed=0):
    """A textured skin disc (the scalp) on a blue background; area = its left half."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    scalp = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (0.4 * size) ** 2
    skin = np.array([198, 150, 120], float) + rng.normal(0, 3, (size, size, 3))
    background = np.array([40, 60, 160], float)
    rgb8 = np.where(scalp[..., None], skin, background).clip(0, 255).astype(np.uint8)
    area = xx < size / 2
    return rgb8, scalp, area


# --- sampling ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spacing", [3.0, 6.5])
def test_poisson_points_keep_their_distance(spacing):
    points = poisson_disk_points((120, 150), spacing, seed=3)
    distances, _ = cKDTree(points).query(points, k=2)
    assert distances[:, 1].min() >= spacing - 1e-9
    assert points[:, 0].min() >= -0.5 and points[:, 0].max() < 149.5
    assert points[:, 1].min() >= -0.5 and points[:, 1].max() < 119.5


def test_poisson_points_fill_the_plane():
    # maximal: no empty disc of radius 2r anywhere in the interior (a gap would take a sample)
    spacing = 5.0
    points = poisson_disk_points((200, 200), spacing, seed=1)
    grid = np.stack(np.mgrid[20:180:2, 20:180:2], -1).reshape(-1, 2)[:, ::-1].astype(float)
    nearest, _ = cKDTree(points).query(grid)
    assert nearest.max() < 2 * spacing


def test_poisson_points_are_deterministic_by_seed():
    a = poisson_disk_points((80, 80), 4.0, seed=7)
    b = poisson_disk_points((80, 80), 4.0, seed=7)
    c = poisson_disk_points((80, 80), 4.0, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_poisson_points_stay_in_the_mask():
    mask = np.zeros((100, 100), bool)
    mask[30:60, 10:90] = True
    points = poisson_disk_points(mask.shape, 4.0, mask=mask, seed=0)
    assert len(points) > 0
    assert mask[np.rint(points[:, 1]).astype(int), np.rint(points[:, 0]).astype(int)].all()
    assert len(poisson_disk_points(mask.shape, 4.0, mask=np.zeros_like(mask))) == 0


def test_density_turns_into_the_requested_dot_count():
    rgb8, scalp, _ = scalp_scene(size=300)
    area = np.ones_like(scalp)
    px_per_cm, density = 40.0, 30.0  # 30 dots/cm² → 0.01875 dots/px²
    from shade_match.preview import POISSON_PACKING

    spacing = np.sqrt(POISSON_PACKING / (density / px_per_cm**2))
    points = poisson_disk_points(rgb8.shape[:2], spacing, mask=scalp & area, seed=2)
    measured = len(points) / np.count_nonzero(scalp) * px_per_cm**2
    assert measured == pytest.approx(density, rel=0.15)


# --- rendering ----------------------------------------------------------------------------------


def test_pixels_outside_the_area_are_untouched():
    rgb8, scalp, area = scalp_scene()
    out = render_preview(rgb8, scalp, area, (25.0, 0.0, -2.0), dot_diameter_px=4, spacing_px=7, seed=1)
    outside = ~(scalp & area)
    assert np.array_equal(out[outside], rgb8[outside])
    assert not np.array_equal(out[~outside], rgb8[~outside])
    assert out.dtype == np.uint8 and out.shape == rgb8.shape


def test_rendering_is_deterministic_by_seed():
    rgb8, scalp, area = scalp_scene()
    kwargs = dict(dot_diameter_px=3, spacing_px=6)
    a = render_preview(rgb8, scalp, area, (30, 0, 0), seed=5, **kwargs)
    b = render_preview(rgb8, scalp, area, (30, 0, 0), seed=5, **kwargs)
    c = render_preview(rgb8, scalp, area, (30, 0, 0), seed=6, **kwargs)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dots_only_darken_and_darker_pigment_darkens_more():
    rgb8, scalp, area = scalp_scene()
    inside = scalp & area
    means = []
    for lightness in (15.0, 35.0, 55.0):
        out = render_preview(rgb8, scalp, area, (lightness, 0, 0), dot_diameter_px=4, spacing_px=7, seed=2)
        assert np.all(out[inside] <= rgb8[inside])  # carbon only absorbs
        means.append(colour.image_to_lab_fast(out[inside][None])[..., 0].mean())
    assert means[0] < means[1] < means[2]


def test_dot_centre_follows_the_documented_optical_model():
    size = 81
    rgb8 = np.full((size, size, 3), (205, 160, 135), np.uint8)
    mask = np.ones((size, size), bool)
    centre = np.array([[40.0, 40.0]])
    pigment = (30.0, 1.0, 2.0)
    out = render_preview(rgb8, mask, mask, pigment, dot_diameter_px=24, seed=0, points=centre)
    # independent: colour-science Lab → linear sRGB of the cool-shifted pigment
    shifted = np.add(pigment, COOL_SHIFT_LAB)
    xyz = colour_science.Lab_to_XYZ(shifted, colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])
    pigment_linear = colour_science.XYZ_to_RGB(xyz, colour_science.RGB_COLOURSPACES["sRGB"], apply_cctf_encoding=False)
    skin_linear = colour_science.cctf_decoding(rgb8[40, 40] / 255.0)
    healed = np.minimum(pigment_linear, skin_linear)
    seen = colour_science.cctf_decoding(out[40, 40] / 255.0)
    # seen = skin + w·(healed − skin) with w = T · coverage, coverage in the dot-strength range
    weight = np.dot(seen - skin_linear, healed - skin_linear) / np.dot(healed - skin_linear, healed - skin_linear)
    assert 0.8 * EPIDERMAL_TRANSMITTANCE <= weight <= EPIDERMAL_TRANSMITTANCE + 0.01
    predicted = skin_linear + weight * (healed - skin_linear)
    assert np.abs(colour_science.cctf_encoding(predicted) * 255 - out[40, 40]).max() <= 1.0
    # and far from the dot nothing changed
    assert np.array_equal(out[0, 0], rgb8[0, 0])


def test_healed_dot_is_cooler_than_the_ink():
    size = 81
    rgb8 = np.full((size, size, 3), (235, 235, 235), np.uint8)  # near-white: dot colour shows
    mask = np.ones((size, size), bool)
    ink = (40.0, 0.0, 0.0)
    out = render_preview(rgb8, mask, mask, ink, dot_diameter_px=24, seed=0, points=np.array([[40.0, 40.0]]))
    lab = colour.srgb8_to_lab(out[40, 40])
    assert lab[2] < -1.0  # bluer than the neutral ink (R7)


def test_compare_previews_share_one_layout():
    rgb8, scalp, area = scalp_scene()
    previews = compare_previews(
        rgb8, scalp, area, [("target", (25, 0, 0), "w6"), ("lighter", (45, 0, 0))],
        dot_diameter_px=3, spacing_px=6, seed=4,
    )  # fmt: skip
    assert [p.label for p in previews] == ["target", "lighter"]
    assert previews[0].entry_id == "w6"
    changed = [np.any(p.image != rgb8, axis=-1) for p in previews]
    # the lighter shade changes a subset of the darker one's pixels (same dots, fainter)
    assert np.all(changed[1] <= changed[0]) and changed[1].sum() > 0.5 * changed[0].sum()
    montage = preview_montage(previews)
    assert montage.shape[1] == 2 * (rgb8.shape[1] + 4) and montage.dtype == np.uint8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dot_diameter_px=3), "exactly one"),
        (dict(dot_diameter_px=3, spacing_px=5, density_per_cm2=20), "exactly one"),
        (dict(dot_diameter_px=3, density_per_cm2=20), "px_per_cm"),
        (dict(dot_diameter_px=0, spacing_px=5), "dot_diameter_px"),
        (dict(dot_diameter_px=3, spacing_px=0.1), "spacing_px"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    rgb8, scalp, area = scalp_scene(size=40)
    with pytest.raises(SettingsError, match=match):
        render_preview(rgb8, scalp, area, (30, 0, 0), **kwargs)


def test_bad_arrays_raise():
    rgb8, scalp, area = scalp_scene(size=40)
    with pytest.raises(SettingsError, match="uint8"):
        render_preview(rgb8.astype(np.float32), scalp, area, (30, 0, 0), dot_diameter_px=3, spacing_px=5)
    with pytest.raises(SettingsError, match="area_mask"):
        render_preview(rgb8, scalp, area[:10], (30, 0, 0), dot_diameter_px=3, spacing_px=5)
    with pytest.raises(SettingsError, match="pigment_lab"):
        render_preview(rgb8, scalp, area, (30, 0), dot_diameter_px=3, spacing_px=5)


def test_write_previews_from_a_real_analysis(tmp_path):
    from dataclasses import replace

    from shade_match import synthetic
    from shade_match.analysis import inspect_image
    from shade_match.palette import get_palette
    from shade_match.recommend import recommend

    spec = replace(synthetic.random_spec(11, condition="neutral", scale="region"), hair_density=0.5)
    photo = synthetic.render_scalp_photo(spec)
    inspection = inspect_image(photo.rgb, name="client-7.png")
    palette = get_palette("smp-carbon-dilution")
    plan = recommend(inspection.analysis, palette)
    paths = write_previews(inspection, plan, tmp_path / "out")
    assert paths[-1].name == "client-7-preview-compare.png"
    assert any(plan.target.entry_id in p.name for p in paths)
    for path in paths[:-1]:
        image = np.asarray(Image.open(path))
        assert image.shape == inspection.rgb.shape
        seg = inspection.segmentation
        untouched = ~(seg.scalp & ~seg.hair)
        corrected8 = np.clip(np.rint(inspection.corrected * 255.0), 0, 255).astype(np.uint8)
        assert np.array_equal(image[untouched], corrected8[untouched])
