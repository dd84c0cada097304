"""Tests for shade_match.palette: schema, formats, D50→D65, validation that
collects every problem, discovery, and the shipped palettes."""

from __future__ import annotations

import importlib.util
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from shade_match import colour
from shade_match.errors import PaletteError
from shade_match.palette import (
    DEFAULT_PIGMENT_PALETTE,
    PALETTE_PATH_ENV,
    Palette,
    default_palette_dirs,
    find_palettes,
    get_palette,
    load_palette,
    validate_palette_file,
)

REPO = Path(__file__).resolve().parents[1]
PALETTES_DIR = REPO / "palettes"

MINIMAL = """\
[palette]
name = "{name}"
title = "Test"
kind = "pigment"

[[entries]]
id = "a"
name = "Alpha"
hex = "#a07e56"

[[entries]]
id = "b"
name = "Beta"
lab = [40.0, 2.0, -3.0]
dilution = 10
brand = "Acme"
notes = "n"
"""


def write(folder: Path, filename: str, text: str) -> Path:
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped palettes ----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PALETTES_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_palettes_are_valid(path):
    assert validate_palette_file(path) == []
    palette = load_palette(path)
    assert palette.name == path.stem and len(palette) >= 10


def test_default_pigment_palette_is_shipped_and_marked_illustrative():
    palette = get_palette(DEFAULT_PIGMENT_PALETTE, dirs=[PALETTES_DIR])
    assert palette.kind == "pigment" and palette.illustrative
    dilutions = [entry.dilution for entry in palette.entries]
    assert dilutions == sorted(dilutions) and dilutions[0] == 0
    lightness = [entry.lab[0] for entry in palette.entries]
    assert all(a < b for a, b in zip(lightness, lightness[1:]))  # more water → lighter
    assert palette.entries[0].lab[2] < 0  # neat carbon heals cool (bluish)


def test_carbon_series_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_carbon_series", PALETTES_DIR / "tools" / "make_carbon_series.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (PALETTES_DIR / "smp-carbon-dilution.toml").read_text(encoding="utf-8") == module.render()


def test_readme_examples_load(tmp_path):
    readme = (PALETTES_DIR / "README.md").read_text(encoding="utf-8")
    toml_example = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    csv_example = re.search(r"```csv\n(.*?)```", readme, re.S).group(1)
    palette = load_palette(write(tmp_path, "my-clinic-carbon.toml", toml_example))
    assert [entry.id for entry in palette.entries] == ["c10", "c20"]
    assert palette.provenance["illuminant"] == "D50" and palette.provenance["date"] == "2026-11-23"
    from_csv = load_palette(write(tmp_path, "clinic-carbon.csv", csv_example))
    assert from_csv.name == "clinic-carbon" and len(from_csv) == 2


# --- TOML ----------------------------------------------------------------------------------


def test_toml_palette_fields(tmp_path):
    palette = load_palette(write(tmp_path, "mini.toml", MINIMAL.format(name="mini")))
    assert palette.name == "mini" and palette.title == "Test" and palette.kind == "pigment"
    alpha, beta = palette.entries
    np.testing.assert_allclose(alpha.lab, colour.hex_to_lab("#a07e56"))
    assert alpha.hex == "#a07e56" and alpha.dilution is None and alpha.brand is None
    assert beta.lab == (40.0, 2.0, -3.0) and beta.dilution == 10.0 and beta.brand == "Acme"
    assert beta.hex == colour.lab_to_hex([40.0, 2.0, -3.0])
    assert palette.labs.shape == (2, 3) and not palette.labs.flags.writeable
    assert palette.path == str(tmp_path / "mini.toml")


def test_d50_lab_is_adapted_to_d65_with_bradford(tmp_path):
    text = MINIMAL.format(name="d50").replace('kind = "pigment"', 'kind = "pigment"\nilluminant = "D50"')
    text += '\n[[entries]]\nid = "c"\nname = "Own white"\nlab = [40.0, 2.0, -3.0]\nilluminant = "D65"\n'
    palette = load_palette(write(tmp_path, "d50.toml", text))
    alpha, beta, gamma = palette.entries
    np.testing.assert_allclose(alpha.lab, colour.hex_to_lab("#a07e56"))  # hex is never adapted
    np.testing.assert_allclose(beta.lab, colour.adapt_lab([40.0, 2.0, -3.0], "D50", "D65"), atol=1e-12)
    assert gamma.lab == (40.0, 2.0, -3.0)  # the entry's own illuminant wins
    assert beta.lab != gamma.lab


def test_palette_pickles_and_compares():
    palette = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    _ = palette.labs
    clone = pickle.loads(pickle.dumps(palette))
    assert clone == palette
    np.testing.assert_array_equal(clone.labs, palette.labs)
    assert hash(clone) == hash(palette)
    error = pickle.loads(pickle.dumps(PaletteError("f.toml", "bad", entry="x", field="hex")))
    assert (error.file, error.entry, error.field, str(error)) == ("f.toml", "x", "hex", "f.toml, entry x, field 'hex': bad")


def test_entry_lookup():
    palette = load_palette(PALETTES_DIR / "monk-skin-tone.toml")
    assert palette.entry("6").hex == "#a07e56"
    with pytest.raises(PaletteError, match="received 'eleven'") as info:
        palette.entry("eleven")
    assert info.value.entry == "eleven"


# --- CSV, YAML, bytes ------------------------------------------------------------------------


CSV_TEXT = """\
# name: mini-csv
# title: Test
# illustrative: yes
id,name,hex,L,a,b,dilution,brand,notes
a,Alpha,#a07e56,,,,,,
b,Beta,,40,2,-3,10,Acme,n
"""

YAML_TEXT = """\
palette:
  name: mini-yaml
  title: Test
entries:
  - {id: a, name: Alpha, hex: "#a07e56"}
  - {id: b, name: Beta, lab: [40.0, 2.0, -3.0], dilution: 10, brand: Acme, notes: n}
"""


def same_entries(left: Palette, right: Palette) -> bool:
    return [(e.id, e.name, e.hex, e.brand, e.dilution, e.notes) for e in left.entries] == [
        (e.id, e.name, e.hex, e.brand, e.dilution, e.notes) for e in right.entries
    ] and np.allclose(left.labs, right.labs)


def test_csv_and_yaml_give_the_same_palette_as_toml(tmp_path):
    reference = load_palette(write(tmp_path, "mini.toml", MINIMAL.format(name="mini")))
    from_csv = load_palette(write(tmp_path, "mini-csv.csv", CSV_TEXT))
    from_yaml = load_palette(write(tmp_path, "mini-yaml.yaml", YAML_TEXT))
    assert same_entries(reference, from_csv) and same_entries(reference, from_yaml)
    assert from_csv.illustrative and from_csv.title == "Test"


def test_bytes_with_name_hint_and_sniffing():
    from_hint = load_palette(CSV_TEXT.encode(), name_hint="upload.csv")
    assert from_hint.name == "mini-csv" and from_hint.path == "upload.csv"
    assert load_palette(MINIMAL.format(name="m").encode()).name == "m"
    assert load_palette(CSV_TEXT.encode()).name == "mini-csv"
    assert load_palette(YAML_TEXT.encode()).name == "mini-yaml"
    unnamed = "id,name,hex\nx,X,#000000\n".encode("utf-8-sig")
    assert load_palette(unnamed, name_hint="Clinic Shades (2).csv").name == "clinic-shades-2"


def test_yaml_without_pyyaml_says_how_to_install_it(tmp_path, monkeypatch):
    path = write(tmp_path, "mini-yaml.yml", YAML_TEXT)
    monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` fail
    with pytest.raises(PaletteError, match="pip install pyyaml"):
        load_palette(path)


# --- validation ---------------------------------------------------------------------------------


BROKEN = """\
[palette]
name = "Not A Slug"
kind = "paint"
illuminant = "D93"
illustrative = "yes"
colour = "typo"

[[entries]]
id = "a"
name = "A"
hex = "#12345"

[[entries]]
id = "a"
name = "Duplicate"
hex = "#123456"

[[entries]]
id = "c"
name = ""
hex = "#123456"
lab = [50, 0, 0]

[[entries]]
id = "d"
name = "D"
lab = [120, 0, 0]
dilution = -2

[[entries]]
name = "No id"
lab = [50, 0]
shade = 3
"""


def test_validate_collects_every_problem(tmp_path):
    problems = validate_palette_file(write(tmp_path, "broken.toml", BROKEN))
    found = {(problem.entry, problem.field) for problem in problems}
    expected = {
        (None, "name"),
        (None, "kind"),
        (None, "illuminant"),
        (None, "illustrative"),
        (None, "colour"),
        ("a", "hex"),
        ("a", "id"),
        ("c", "name"),
        ("c", "hex"),
        ("d", "lab"),
        ("d", "dilution"),
        ("#5", "id"),
        ("#5", "shade"),
        ("#5", "lab"),
    }
    assert expected <= found, expected - found
    assert all(problem.file == str(tmp_path / "broken.toml") for problem in problems)
    assert all("expected" in problem.message and "received" in problem.message for problem in problems)


def test_load_raises_the_first_problem_and_counts_them(tmp_path):
    path = write(tmp_path, "broken.toml", BROKEN)
    count = len(validate_palette_file(path))
    with pytest.raises(PaletteError, match=f"first of {count} problems") as info:
        load_palette(path)
    assert info.value.field == "name"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("filename", "text", "pattern"),
    [
        ("bad.toml", "[palette\nname = 1", "expected valid TOML"),
        ("empty.toml", '[palette]\nname = "empty"\n', "at least one"),
        ("noheader.toml", '[[entries]]\nid = "a"\nname = "A"\nhex = "#000000"\n', r"\[palette\] table"),
        ("other.toml", MINIMAL.format(name="mini"), "equal the file name"),
        ("mini.txt", MINIMAL.format(name="mini"), "ending in .toml"),
        ("cols.csv", "id,name,colour\na,A,#000000\n", "unknown column"),
        ("labcsv.csv", "id,name,L,a,b\na,A,50,x,0\n", "three finite numbers"),
        ("bad.yaml", "palette: [unclosed", "expected valid YAML"),
    ],
)
def test_single_file_problems(tmp_path, filename, text, pattern):
    path = write(tmp_path, filename, text)
    problems = validate_palette_file(path)
    assert problems and re.search(pattern, str(problems[0])), [str(p) for p in problems]
    with pytest.raises(PaletteError, match=pattern):
        load_palette(path)


def test_missing_file_and_bad_bytes(tmp_path):
    with pytest.raises(PaletteError, match="does not exist"):
        load_palette(tmp_path / "nope.toml")
    with pytest.raises(PaletteError, match="UTF-8"):
        load_palette(b"\xff\xfe\x00garbage", name_hint="x.toml")
    with pytest.raises(PaletteError, match="path or bytes"):
        load_palette(42)


# --- discovery ------------------------------------------------------------------------------


def test_default_dirs_order(monkeypatch, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    monkeypatch.setenv(PALETTE_PATH_ENV, f"{first}{__import__('os').pathsep}{second}")
    dirs = default_palette_dirs()
    assert dirs[:2] == [first, second]
    assert dirs[2] == Path("~/.config/shade-match/palettes").expanduser()
    assert dirs[3] == PALETTES_DIR


def test_find_and_get_palettes_with_precedence(monkeypatch, tmp_path):
    override, extra = tmp_path / "override", tmp_path / "extra"
    override.mkdir()
    extra.mkdir()
    write(override, "monk-skin-tone.toml", MINIMAL.format(name="monk-skin-tone"))
    write(extra, "mine.csv", CSV_TEXT.replace("mini-csv", "mine"))
    write(extra, "mine.yaml", YAML_TEXT.replace("mini-yaml", "mine"))  # .csv wins in one folder
    write(extra, "README.md", "not a palette")
    found = find_palettes([override, extra, PALETTES_DIR, tmp_path / "missing"])
    assert found["monk-skin-tone"] == override / "monk-skin-tone.toml"
    assert found["mine"] == extra / "mine.csv"
    assert found["hair-levels"] == PALETTES_DIR / "hair-levels.toml"
    assert list(found) == sorted(found)
    assert len(get_palette("monk-skin-tone", dirs=[override, PALETTES_DIR])) == 2
    monkeypatch.setenv(PALETTE_PATH_ENV, str(extra))
    assert get_palette("mine").name == "mine"
    assert "mine" in find_palettes()


def test_get_palette_by_path_and_unknown_name(tmp_path):
    path = write(tmp_path, "mini.toml", MINIMAL.format(name="mini"))
    assert get_palette(path).name == "mini"
    assert get_palette(str(path)).name == "mini"
    with pytest.raises(PaletteError, match="hair-levels, monk-skin-tone, smp-carbon-dilution") as info:
        get_palette("no-such-palette", dirs=[PALETTES_DIR])
    assert info.value.file == "no-such-palette"


# --- large palettes --------------------------------------------------------------------------


def test_ten_thousand_entries_load_correctly(tmp_path):
    rng = np.random.default_rng(11)
    labs = np.column_stack([rng.uniform(0, 100, 10_000), rng.uniform(-60, 60, (10_000, 2))])
    hexes = rng.integers(0, 256, (10_000, 3))
    lines = ['[palette]', 'name = "big"', 'illuminant = "D50"', ""]
    for index in range(10_000):
        lines += ["[[entries]]", f'id = "e{index:05d}"', f'name = "Entry {index}"']
        if index % 2:
            lines.append(f"lab = [{float(labs[index, 0])!r}, {float(labs[index, 1])!r}, {float(labs[index, 2])!r}]")
        else:
            lines.append(f'hex = "{colour.srgb8_to_hex(hexes[index])}"')
    palette = load_palette(write(tmp_path, "big.toml", "\n".join(lines)))
    assert len(palette) == 10_000 and palette.labs.shape == (10_000, 3)
    np.testing.assert_allclose(palette.labs[1::2], colour.adapt_lab(labs[1::2], "D50"), atol=1e-12)
    np.testing.assert_allclose(palette.labs[0::2], colour.srgb8_to_lab(hexes[0::2]), atol=1e-12)
    assert palette.entries[9_999].id == "e09999"


def test_unquoted_yaml_hex_gets_a_hint():
    text = b"palette:\n  name: x\nentries:\n  - id: a\n    name: A\n    hex: #a07e56\n"
    (problem,) = validate_palette_file(text, name_hint="x.yaml")
    assert (problem.entry, problem.field) == ("a", "hex")
    assert "unquoted #" in problem.message
