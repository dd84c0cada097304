# Two commands a person needs: `make run` (the app) and `make test` (the whole suite).
# Both create .venv with Python 3.11 and install the project into it.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-test browser clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## The main job: the Streamlit app on the shipped sample images and palettes.
run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

## Debian's Chromium for the end-to-end browser test (never a downloaded browser).
browser:
	@bash scripts/ensure-chromium

## The whole test suite, browser test included.
test: $(VENV)/.installed-test browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
