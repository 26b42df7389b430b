"""Sphinx configuration of the mxtorch documentation: the API reference is generated
from the docstrings (autodoc, numpydoc-style sections through napoleon); no network."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "mxtorch"
author = "the mxtorch developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
html_theme = "alabaster"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]
suppress_warnings = ["autodoc.import_object"]
