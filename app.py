"""shade-match in the browser: ``streamlit run app.py`` (or ``make run``).

This file only sets up the page and the navigation; the pages live in
:mod:`shade_match.ui` and the analysis in :mod:`shade_match.analysis`.
"""

import streamlit as st

from shade_match.runtime import reuse_freed_memory
from shade_match.ui import pages

reuse_freed_memory()  # the app's server process analyses one photo after another

st.set_page_config(page_title="shade-match", page_icon="🎨", layout="wide")
st.navigation(pages()).run()
