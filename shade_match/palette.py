"""Palette files: schema, loading, validation and discovery.

A palette is a named list of colours — pigment dilutions, a skin-tone scale, hair
levels — with provenance. Files are TOML (the native format), CSV (for
spreadsheets) or YAML (only if PyYAML is installed). The schema is documented in
``palettes/README.md``; in short::

    [palette]
    name = "smp-carbon-dilution"        # slug, required
    title = "…"; kind = "pigment"; illuminant = "D65"; illustrative = true; …

    [[entries]]
    id = "carbon-10"; name = "10:1"; lab = [44.2, 10.8, 8.5]; dilution = 10

Every colour is stored as CIELAB D65 (2°). An entry gives either ``hex`` (sRGB,
hence D65) or ``lab``; ``lab`` measured under another white (``illuminant``, per
entry or per palette, e.g. ``"D50"`` from a spectrophotometer) is adapted to D65
with the Bradford transform (:func:`shade_match.colour.adapt_lab`) [1]_.

Any problem raises :class:`~shade_match.errors.PaletteError` naming the file, the
entry and the field; :func:`validate_palette_file` collects *all* problems of a
file instead of stopping at the first.

References
----------
.. [1] ICC.1:2004-10, Annex E (Bradford chromatic adaptation); K. M. Lam, PhD
   thesis, University of Bradford, 1985.
.. [2] TOML v1.0.0, https://toml.io/en/v1.0.0 (read with :mod:`tomllib`).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Final, Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from .colour import WHITES, adapt_lab, lab_to_srgb8, srgb8_to_lab
from .errors import PaletteError

__all__ = [
    "DEFAULT_PIGMENT_PALETTE",
    "PALETTE_PATH_ENV",
    "PALETTE_KINDS",
    "PALETTE_SUFFIXES",
    "HEADER_FIELDS",
    "ENTRY_FIELDS",
    "PaletteEntry",
    "Palette",
    "load_palette",
    "validate_palette_file",
    "default_palette_dirs",
    "find_palettes",
    "get_palette",
]

#: The palette the analysis matches hair tone against unless told otherwise.
DEFAULT_PIGMENT_PALETTE: Final = "smp-carbon-dilution"
#: Environment variable with extra palette folders (``os.pathsep``-separated),
#: searched before the user folder and the shipped ``palettes/``.
PALETTE_PATH_ENV: Final = "SHADE_MATCH_PALETTE_PATH"
#: Allowed values of the header's ``kind``.
PALETTE_KINDS: Final[tuple[str, ...]] = ("pigment", "skin-scale", "hair-scale", "reference", "other")
#: File suffixes recognised as palettes, in order of precedence within one folder.
PALETTE_SUFFIXES: Final[tuple[str, ...]] = (".toml", ".csv", ".yaml", ".yml")
#: Header fields (``[palette]`` table) and whether each is required.
HEADER_FIELDS: Final[dict[str, bool]] = {
    "name": True,
    "title": False,
    "kind": False,
    "description": False,
    "measured_by": False,
    "method": False,
    "illuminant": False,
    "licence": False,
    "source": False,
    "illustrative": False,
    "date": False,
}
#: Entry fields (``[[entries]]``) and whether each is required (``hex`` xor ``lab``).
ENTRY_FIELDS: Final[dict[str, bool]] = {
    "id": True,
    "name": True,
    "hex": False,
    "lab": False,
    "illuminant": False,
    "brand": False,
    "dilution": False,
    "notes": False,
}

_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_HEX: Final = re.compile(r"^#?([0-9a-fA-F]{6})$")
_CSV_LAB_COLUMNS: Final = ("L", "a", "b")
_PROVENANCE_KEYS: Final = (
    "description",
    "measured_by",
    "method",
    "illuminant",
    "licence",
    "source",
    "illustrative",
    "date",
)


@dataclass(frozen=True)
class PaletteEntry:
    """One colour of a palette.

    Attributes
    ----------
    id : str
        Unique within the palette.
    name : str
        Shown to people.
    lab : tuple of float
        CIELAB D65 (2°), after any adaptation from the file's illuminant.
    hex : str
        ``"#rrggbb"``; the file's hex, or ``lab`` clipped to the sRGB gamut.
    brand : str or None
    dilution : float or None
        N in "N parts water : 1 part pigment" (SMP convention).
    notes : str
    """

    id: str
    name: str
    lab: tuple[float, float, float]
    hex: str
    brand: str | None = None
    dilution: float | None = None
    notes: str = ""


@dataclass(frozen=True)
class Palette:
    """A named, ordered set of :class:`PaletteEntry`.

    Attributes
    ----------
    name : str
        Slug, unique among the palettes in use (matches the file name).
    title : str
    kind : str
        One of :data:`PALETTE_KINDS`.
    entries : tuple of PaletteEntry
    provenance : mapping
        ``description``, ``measured_by``, ``method``, ``illuminant``, ``licence``,
        ``source``, ``illustrative`` (bool), ``date`` — whatever the file gave.
    path : str
        Where it was loaded from (``""`` for bytes without a name).
    """

    name: str
    title: str
    kind: str
    entries: tuple[PaletteEntry, ...]
    provenance: Mapping[str, Any] = field(default_factory=dict, hash=False)
    path: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[PaletteEntry]:
        return iter(self.entries)

    @property
    def illustrative(self) -> bool:
        """True when the colours are a model or example, not measurements."""
        return bool(self.provenance.get("illustrative", False))

    @cached_property
    def labs(self) -> NDArray[np.float64]:
        """The entries' CIELAB D65 values, shape (N, 3), read-only."""
        labs = np.array([entry.lab for entry in self.entries], dtype=np.float64).reshape(-1, 3)
        labs.setflags(write=False)
        return labs

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """The entries' ids, in file order."""
        return tuple(entry.id for entry in self.entries)

    def entry(self, entry_id: str) -> PaletteEntry:
        """The entry with ``entry_id``; :class:`PaletteError` if there is none."""
        for candidate in self.entries:
            if candidate.id == entry_id:
                return candidate
        raise PaletteError(
            self.path or self.name,
            f"expected the id of an entry of palette '{self.name}'; received {entry_id!r}",
            entry=str(entry_id),
        )


# --- reading ---------------------------------------------------------------------


class _Problems:
    """Collects PaletteErrors for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[PaletteError] = []

    def add(self, message: str, *, entry: str | None = None, field: str | None = None) -> None:
        self.errors.append(PaletteError(self.file, message, entry=entry, field=field))


def _format_for(suffix: str, file: str) -> str:
    suffix = suffix.lower()
    if suffix == ".toml":
        return "toml"
    if suffix == ".csv":
        return "csv"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise PaletteError(
        file,
        f"expected a palette file ending in {', '.join(PALETTE_SUFFIXES)}; received suffix {suffix or '(none)'!r}",
    )


def _sniff_format(text: str) -> str:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    if isinstance(data, dict) and ("palette" in data or "entries" in data):
        return "toml"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if "," in stripped:
                return "csv"
            break
    if re.search(r"^(palette|entries)\s*:", text, flags=re.MULTILINE):
        return "yaml"
    return "toml"  # let the TOML reader report what is wrong


def _parse_toml(text: str, file: str) -> tuple[Any, Any, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PaletteError(file, f"expected valid TOML; the parser says: {exc}") from None
    return data.get("palette"), data.get("entries"), _extra_top_level(data)


def _extra_top_level(data: Mapping[str, Any]) -> list[str]:
    return sorted(key for key in data if key not in ("palette", "entries"))


def _parse_yaml(text: str, file: str) -> tuple[Any, Any, list[str]]:
    try:
        import yaml  # optional dependency
    except ImportError:
        raise PaletteError(
            file,
            "expected PyYAML to read a YAML palette, but it is not installed; "
            "install it with `pip install pyyaml`, or use the TOML or CSV format",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PaletteError(file, f"expected valid YAML; the parser says: {exc}") from None
    if not isinstance(data, dict):
        raise PaletteError(
            file,
            f"expected a YAML mapping with 'palette' and 'entries'; received {type(data).__name__}",
        )
    return data.get("palette"), data.get("entries"), _extra_top_level(data)


def _csv_meta_value(key: str, value: str) -> Any:
    if key == "illustrative":
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    return value.strip()


def _parse_csv(text: str, file: str) -> tuple[Any, Any, list[str]]:
    header: dict[str, Any] = {}
    lines = text.splitlines()
    body_start = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            if sep and key.strip():
                header[key.strip()] = _csv_meta_value(key.strip(), value)
            continue
        body_start = index
        break
    else:
        raise PaletteError(file, "expected a CSV header row (id,name,hex or L,a,b …); received no rows")
    body = [line for line in lines[body_start:] if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(body)), skipinitialspace=True)
    columns = [name.strip() for name in (reader.fieldnames or [])]
    known = set(ENTRY_FIELDS) - {"lab"} | set(_CSV_LAB_COLUMNS)
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise PaletteError(
            file,
            f"expected CSV columns among {', '.join(sorted(known))}; received unknown column(s) "
            f"{', '.join(repr(name) for name in unknown)}",
        )
    entries: list[dict[str, Any]] = []
    for row in reader:
        row = {(key or "").strip(): (value or "").strip() for key, value in row.items() if key is not None}
        entry: dict[str, Any] = {}
        for key in ("id", "name", "hex", "brand", "notes", "illuminant"):
            if row.get(key):
                entry[key] = row[key]
        if row.get("dilution"):
            entry["dilution"] = _csv_number(row["dilution"])
        lab_cells = [row.get(column, "") for column in _CSV_LAB_COLUMNS]
        if any(lab_cells):
            entry["lab"] = [_csv_number(cell) if cell else None for cell in lab_cells]
        entries.append(entry)
    return header, entries, []


def _csv_number(cell: str) -> Any:
    try:
        return float(cell)
    except ValueError:
        return cell  # reported as "expected a number" by the validator


def _read(path_or_bytes: str | os.PathLike[str] | bytes, name_hint: str | None) -> tuple[str, str, str, str | None]:
    """Return (file label, format, text, stem if loaded from a path)."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        file = name_hint or "<memory>"
        raw = bytes(path_or_bytes)
        stem = None
        suffix = Path(name_hint).suffix if name_hint else ""
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        path = Path(path_or_bytes)
        file = str(path)
        suffix = path.suffix
        stem = path.stem
        _format_for(suffix, file)  # reject an unknown suffix before reading
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise PaletteError(file, "expected an existing palette file; it does not exist") from None
        except OSError as exc:
            raise PaletteError(file, f"expected a readable palette file; reading failed: {exc}") from None
    else:
        raise PaletteError(
            "<memory>",
            f"expected a path or bytes; received {type(path_or_bytes).__name__}",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PaletteError(file, f"expected UTF-8 text; received undecodable bytes ({exc})") from None
    fmt = _format_for(suffix, file) if suffix else _sniff_format(text)
    return file, fmt, text, stem


# --- validation ------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._") or "palette"


def _check_header(
    header: Any, problems: _Problems, *, stem: str | None, default_name: str | None, fmt: str
) -> dict[str, Any] | None:
    if header is None:
        if fmt == "csv":
            header = {}
        else:
            problems.add("expected a [palette] table with at least `name`; received none", field="palette")
            return None
    if not isinstance(header, dict):
        problems.add(
            f"expected [palette] to be a table; received {type(header).__name__}", field="palette"
        )
        return None
    clean: dict[str, Any] = {}
    name = header.get("name")
    if name is None and default_name is not None:
        clean["name"] = default_name  # a spreadsheet's file name is its palette name
    elif name is None:
        problems.add("expected a palette name (a slug such as 'my-pigments'); received none", field="name")
    elif not isinstance(name, str) or not _SLUG.match(name):
        problems.add(
            "expected a slug: lower-case letters, digits, '.', '_' or '-', starting with a letter "
            f"or digit; received {name!r}",
            field="name",
        )
    elif stem is not None and name != stem:
        problems.add(
            f"expected the name to equal the file name without suffix ({stem!r}), so that it can "
            f"be found by name; received {name!r}",
            field="name",
        )
    else:
        clean["name"] = name
    for key in ("title", "description", "measured_by", "method", "licence", "source"):
        value = header.get(key)
        if value is not None and not isinstance(value, str):
            problems.add(f"expected text; received {type(value).__name__} {value!r}", field=key)
        elif value is not None:
            clean[key] = value
    kind = header.get("kind", "pigment")
    if kind not in PALETTE_KINDS:
        problems.add(f"expected one of {', '.join(PALETTE_KINDS)}; received {kind!r}", field="kind")
    clean["kind"] = kind
    illuminant = header.get("illuminant", "D65")
    if not isinstance(illuminant, str) or illuminant.strip().upper() not in WHITES:
        problems.add(
            f"expected one of {', '.join(WHITES)}; received {illuminant!r}", field="illuminant"
        )
        illuminant = "D65"
    clean["illuminant"] = illuminant.strip().upper()
    illustrative = header.get("illustrative", False)
    if not isinstance(illustrative, bool):
        problems.add(f"expected true or false; received {illustrative!r}", field="illustrative")
    clean["illustrative"] = bool(illustrative) if isinstance(illustrative, bool) else False
    date = header.get("date")
    if date is not None:
        if isinstance(date, (_dt.date, _dt.datetime)):
            clean["date"] = date.isoformat()
        elif isinstance(date, str):
            clean["date"] = date
        else:
            problems.add(f"expected a date such as 2026-11-23; received {date!r}", field="date")
    for key in header:
        if key not in HEADER_FIELDS:
            problems.add(
                f"expected header fields among {', '.join(HEADER_FIELDS)}; received unknown field {key!r}",
                field=str(key),
            )
    return clean


def _check_entries(
    entries: Any, header: dict[str, Any], problems: _Problems
) -> list[PaletteEntry]:
    if entries is None or (isinstance(entries, list) and not entries):
        problems.add("expected at least one [[entries]] item; received none", field="entries")
        return []
    if not isinstance(entries, list):
        problems.add(
            f"expected a list of [[entries]] tables; received {type(entries).__name__}", field="entries"
        )
        return []
    palette_illuminant = header.get("illuminant", "D65")
    seen_ids: dict[str, int] = {}
    raw: list[dict[str, Any]] = []  # validated fields, colour still unconverted
    for position, item in enumerate(entries, start=1):
        label = f"#{position}"
        if not isinstance(item, dict):
            problems.add(f"expected a table; received {type(item).__name__}", entry=label)
            continue
        ok = True
        entry_id = item.get("id")
        if isinstance(entry_id, int) and not isinstance(entry_id, bool):
            entry_id = str(entry_id)
        if not isinstance(entry_id, str) or not entry_id.strip():
            problems.add(f"expected a non-empty text id; received {item.get('id')!r}", entry=label, field="id")
            ok = False
        else:
            entry_id = entry_id.strip()
            label = entry_id
            if entry_id in seen_ids:
                problems.add(
                    f"expected unique ids; received {entry_id!r} again (first used by entry #{seen_ids[entry_id]})",
                    entry=label,
                    field="id",
                )
                ok = False
            else:
                seen_ids[entry_id] = position
        for key in item:
            if key not in ENTRY_FIELDS:
                problems.add(
                    f"expected entry fields among {', '.join(ENTRY_FIELDS)}; received unknown field {key!r}",
                    entry=label,
                    field=str(key),
                )
                ok = False
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add(f"expected a non-empty name; received {name!r}", entry=label, field="name")
            ok = False
        has_hex, has_lab = "hex" in item, "lab" in item
        if has_hex == has_lab:
            problems.add(
                "expected exactly one of `hex` or `lab`; received "
                + ("both" if has_hex else "neither"),
                entry=label,
                field="hex" if has_hex else "lab",
            )
            ok = False
        hex_digits = lab = None
        if has_hex and not has_lab:
            value = item["hex"]
            match = _HEX.match(value.strip()) if isinstance(value, str) else None
            if match is None:
                hint = " (in YAML an unquoted # starts a comment: write hex: \"#a07e56\")" if value is None else ""
                problems.add(
                    f"expected '#' and 6 hex digits such as '#a07e56'; received {value!r}{hint}",
                    entry=label,
                    field="hex",
                )
                ok = False
            else:
                hex_digits = match.group(1).lower()
            if "illuminant" in item:
                problems.add(
                    "expected `illuminant` only with `lab`; a hex colour is sRGB, which is D65",
                    entry=label,
                    field="illuminant",
                )
                ok = False
        if has_lab and not has_hex:
            value = item["lab"]
            if (
                not isinstance(value, (list, tuple))
                or len(value) != 3
                or not all(_is_number(v) for v in value)
            ):
                problems.add(
                    f"expected three finite numbers [L*, a*, b*]; received {value!r}",
                    entry=label,
                    field="lab",
                )
                ok = False
            elif not 0.0 <= value[0] <= 100.0:
                problems.add(
                    f"expected L* between 0 and 100; received {value[0]!r}", entry=label, field="lab"
                )
                ok = False
            else:
                lab = [float(v) for v in value]
        illuminant = item.get("illuminant", palette_illuminant)
        if not isinstance(illuminant, str) or illuminant.strip().upper() not in WHITES:
            problems.add(
                f"expected one of {', '.join(WHITES)}; received {illuminant!r}",
                entry=label,
                field="illuminant",
            )
            ok = False
            illuminant = "D65"
        brand = item.get("brand")
        if brand is not None and not isinstance(brand, str):
            problems.add(f"expected text; received {brand!r}", entry=label, field="brand")
            ok = False
        dilution = item.get("dilution")
        if dilution is not None and (not _is_number(dilution) or dilution < 0):
            problems.add(
                "expected a number ≥ 0 (N in N parts water : 1 part pigment); "
                f"received {dilution!r}",
                entry=label,
                field="dilution",
            )
            ok = False
        notes = item.get("notes", "")
        if not isinstance(notes, str):
            problems.add(f"expected text; received {notes!r}", entry=label, field="notes")
            ok = False
        if ok:
            raw.append(
                {
                    "id": entry_id,
                    "name": name.strip(),
                    "hex": hex_digits,
                    "lab": lab,
                    "illuminant": illuminant.strip().upper(),
                    "brand": brand,
                    "dilution": None if dilution is None else float(dilution),
                    "notes": notes,
                }
            )
    if problems.errors:
        return []
    return _convert(raw)


def _convert(raw: list[dict[str, Any]]) -> list[PaletteEntry]:
    """Turn validated entries into PaletteEntry, converting colours in bulk."""
    labs = np.zeros((len(raw), 3))
    hex_rows = [i for i, item in enumerate(raw) if item["hex"] is not None]
    if hex_rows:
        rgb8 = np.array(
            [[int(raw[i]["hex"][k : k + 2], 16) for k in (0, 2, 4)] for i in hex_rows], dtype=np.uint8
        )
        labs[hex_rows] = srgb8_to_lab(rgb8)
    lab_rows_by_white: dict[str, list[int]] = {}
    for i, item in enumerate(raw):
        if item["lab"] is not None:
            lab_rows_by_white.setdefault(item["illuminant"], []).append(i)
    for white, rows in lab_rows_by_white.items():
        given = np.array([raw[i]["lab"] for i in rows])
        labs[rows] = given if white == "D65" else adapt_lab(given, white, "D65")
    rgb_out = lab_to_srgb8(labs) if len(raw) else np.zeros((0, 3), np.uint8)
    entries = []
    for i, item in enumerate(raw):
        hex_code = "#" + (item["hex"] or "{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb_out[i])))
        entries.append(
            PaletteEntry(
                id=item["id"],
                name=item["name"],
                lab=(float(labs[i, 0]), float(labs[i, 1]), float(labs[i, 2])),
                hex=hex_code,
                brand=item["brand"],
                dilution=item["dilution"],
                notes=item["notes"],
            )
        )
    return entries


def _parse(
    path_or_bytes: str | os.PathLike[str] | bytes, name_hint: str | None
) -> tuple[Palette | None, list[PaletteError]]:
    try:
        file, fmt, text, stem = _read(path_or_bytes, name_hint)
        reader = {"toml": _parse_toml, "csv": _parse_csv, "yaml": _parse_yaml}[fmt]
        header, entries, extra = reader(text, file)
    except PaletteError as exc:
        return None, [exc]
    problems = _Problems(file)
    for key in extra:
        problems.add(
            f"expected only a [palette] table and [[entries]] at the top level; received {key!r}",
            field=key,
        )
    default_name = None
    if fmt == "csv":
        source_stem = stem if stem is not None else (Path(name_hint).stem if name_hint else None)
        default_name = _slugify(source_stem) if source_stem else None
    clean_header = _check_header(header, problems, stem=stem, default_name=default_name, fmt=fmt)
    if clean_header is None:
        clean_header = {"illuminant": "D65"}
    palette_entries = _check_entries(entries, clean_header, problems)
    if problems.errors:
        return None, problems.errors
    name = clean_header["name"]
    provenance = {key: clean_header[key] for key in _PROVENANCE_KEYS if key in clean_header}
    palette = Palette(
        name=name,
        title=clean_header.get("title", name),
        kind=clean_header["kind"],
        entries=tuple(palette_entries),
        provenance=provenance,
        path=file if stem is not None else (name_hint or ""),
    )
    return palette, []


def load_palette(
    path_or_bytes: str | os.PathLike[str] | bytes, *, name_hint: str | None = None
) -> Palette:
    """Load and validate a palette file.

    Parameters
    ----------
    path_or_bytes : str, path-like or bytes
        A ``.toml``, ``.csv``, ``.yaml``/``.yml`` file, or its contents (e.g. an
        upload in the app).
    name_hint : str, optional
        For bytes: the original file name. Its suffix chooses the format (otherwise
        the format is sniffed) and it labels error messages; for a CSV without a
        ``# name:`` line its stem becomes the palette name.

    Returns
    -------
    Palette

    Raises
    ------
    PaletteError
        The first problem found; the message says how many there are in all.
        :func:`validate_palette_file` lists every one.

    Notes
    -----
    A file is parsed once per process while its modification time and size stay the
    same: later calls return the same (frozen) :class:`Palette` object. Parsing the
    shipped TOML takes ~1.5 ms, which every analysis paid for the default palette.
    """
    if isinstance(path_or_bytes, (str, os.PathLike)):
        path = os.fspath(path_or_bytes)
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            pass  # _parse reports the unreadable path
        else:
            return _load_palette_file(
                path, os.path.abspath(path), status.st_mtime_ns, status.st_size, name_hint
            )
    return _load_parsed(path_or_bytes, name_hint)


@lru_cache(maxsize=64)
def _load_palette_file(path, absolute: str, mtime_ns: int, size: int, name_hint: str | None) -> Palette:
    """:func:`load_palette` of the file *path* (as given: it names the palette's
    ``path``), cached by that, its absolute path, modification time and size (the last
    three are part of the key only, so an edited or different file is parsed again)."""
    return _load_parsed(path, name_hint)


def _load_parsed(path_or_bytes: str | os.PathLike[str] | bytes, name_hint: str | None) -> Palette:
    """Parse and validate; raise the first problem (see :func:`load_palette`)."""
    palette, errors = _parse(path_or_bytes, name_hint)
    if errors:
        first = errors[0]
        if len(errors) > 1:
            first = PaletteError(
                first.file,
                f"{first.message} (first of {len(errors)} problems in this file)",
                entry=first.entry,
                field=first.field,
            )
        raise first
    assert palette is not None
    return palette


def validate_palette_file(
    path_or_bytes: str | os.PathLike[str] | bytes, *, name_hint: str | None = None
) -> list[PaletteError]:
    """Every problem in a palette file (an empty list when it is valid).

    Parameters
    ----------
    path_or_bytes : str, path-like or bytes
    name_hint : str, optional
        As for :func:`load_palette`.

    Returns
    -------
    list of PaletteError
        In file order. A file that cannot be read or parsed at all gives one error.
    """
    return _parse(path_or_bytes, name_hint)[1]


# --- discovery ---------------------------------------------------------------------


def default_palette_dirs() -> list[Path]:
    """Folders searched for palettes, highest precedence first.

    1. each folder in ``$SHADE_MATCH_PALETTE_PATH`` (separated by ``os.pathsep``);
    2. the user folder ``~/.config/shade-match/palettes``;
    3. the ``palettes/`` folder shipped beside the package.

    Returns
    -------
    list of Path
        Folders that do not exist are kept (and skipped by :func:`find_palettes`).
    """
    dirs: list[Path] = []
    env_value = os.environ.get(PALETTE_PATH_ENV, "")
    dirs.extend(Path(part).expanduser() for part in env_value.split(os.pathsep) if part.strip())
    dirs.append(Path("~/.config/shade-match/palettes").expanduser())
    dirs.append(Path(__file__).resolve().parents[1] / "palettes")
    return dirs


def find_palettes(dirs: Sequence[str | os.PathLike[str]] | None = None) -> dict[str, Path]:
    """Palette files by name (file name without suffix).

    A name found in an earlier folder hides the same name in later ones, so a
    user's ``smp-carbon-dilution.toml`` replaces the shipped one. Within one folder
    ``.toml`` wins over ``.csv`` over ``.yaml``/``.yml``. Files are not parsed here.

    Parameters
    ----------
    dirs : sequence of path-like, optional
        Default :func:`default_palette_dirs`.

    Returns
    -------
    dict of str to Path
        Sorted by name.
    """
    found: dict[str, Path] = {}
    for folder in default_palette_dirs() if dirs is None else [Path(d) for d in dirs]:
        try:
            listing = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:  # unreadable folder: nothing to find there
            listing = []
        candidates = [
            path
            for path in listing
            if path.suffix.lower() in PALETTE_SUFFIXES
            and path.is_file()
            and not path.name.startswith(".")
        ]
        candidates.sort(key=lambda path: (path.stem, PALETTE_SUFFIXES.index(path.suffix.lower())))
        for path in candidates:
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def get_palette(
    name_or_path: str | os.PathLike[str], dirs: Sequence[str | os.PathLike[str]] | None = None
) -> Palette:
    """A palette by file path, or by name from :func:`find_palettes`.

    Parameters
    ----------
    name_or_path : str or path-like
        An existing file is loaded directly; otherwise the value is a name.
    dirs : sequence of path-like, optional
        Folders to search for a name (default :func:`default_palette_dirs`).

    Returns
    -------
    Palette

    Raises
    ------
    PaletteError
        The name is unknown (the message lists the available names) or the file
        is invalid.
    """
    candidate = Path(name_or_path)
    if candidate.is_file():
        return load_palette(candidate)
    name = str(name_or_path)
    available = find_palettes(dirs)
    if name in available:
        return load_palette(available[name])
    searched = default_palette_dirs() if dirs is None else [Path(d) for d in dirs]
    raise PaletteError(
        name,
        f"expected a palette file or one of the palette names {', '.join(available) or '(none found)'}; "
        f"no file or palette has this name (searched {', '.join(str(d) for d in searched)})",
    )
