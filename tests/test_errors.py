"""The exception tree: bad input is also a ValueError, and errors survive pickling
(batch workers and Dask send them between processes)."""

import pickle

import pytest

from shade_match import errors


@pytest.mark.parametrize(
    "cls",
    [
        errors.EmptyFileError,
        errors.NotAnImageError,
        errors.TruncatedImageError,
        errors.ImageTooLargeError,
        errors.UnsupportedImageError,
    ],
)
def test_image_errors_are_value_errors_and_name_the_source(cls):
    exc = cls("photos/a.jpg", "expected an image, got 0 bytes")
    assert isinstance(exc, errors.ImageLoadError)
    assert isinstance(exc, errors.InputError)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, errors.ShadeMatchError)
    assert str(exc) == "photos/a.jpg: expected an image, got 0 bytes"
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is cls
    assert (again.source, again.reason, str(again)) == (exc.source, exc.reason, str(exc))


def test_palette_error_says_file_entry_and_field_and_pickles():
    exc = errors.PaletteError("my.toml", "expected a hex like #a07e56, got 'blue'", entry="c3", field="hex")
    assert str(exc) == "my.toml, entry c3, field 'hex': expected a hex like #a07e56, got 'blue'"
    assert isinstance(exc, ValueError)
    again = pickle.loads(pickle.dumps(exc))
    assert (again.file, again.entry, again.field, str(again)) == (exc.file, exc.entry, exc.field, str(exc))


def test_analysis_error_is_not_an_input_error():
    assert not issubclass(errors.AnalysisError, errors.InputError)
    assert issubclass(errors.AnalysisError, errors.ShadeMatchError)
