"""Sphinx configuration of the sklearn-2dbm documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The examples gallery runs every ``examples/plot_*.py`` script during the build;
set ``SKLEARN_2DBM_QUICK=1`` (as ``tools/test.sh`` does) to keep those runs
short. Nothing here reaches the network: there is no intersphinx mapping.
"""

import os
import re
import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR.parent))
sys.path.insert(0, str(DOCS_DIR / "_ext"))

# Plots are drawn off screen, both by the gallery and by the figure directive.
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_2dbm

project = "sklearn-2dbm"
author = "The sklearn-2dbm developers"
copyright = "The sklearn-2dbm developers, BSD-3-Clause"
release = sklearn_2dbm.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "cli_help",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "_ext",
    "_figures",
    "Thumbs.db",
    ".DS_Store",
]
root_doc = "index"
default_role = "literal"

# API reference: one page per public name under docs/generated/ (gitignored).
autosummary_generate = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"

# numpydoc lists methods itself when asked; autodoc's :members: already does,
# so turn numpydoc's listing off to avoid documenting every method twice.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
# Types such as "ndarray of shape (n_samples, n_features_in_)" name fitted
# attributes; as cross-reference targets they render as code instead of
# being read as reStructuredText link targets (the trailing underscore).
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {
    "of",
    "or",
    "and",
    "shape",
    "default",
    "optional",
    "instance",
    "like",
    "to",
    "a",
    "the",
}
# numpydoc links some type words into the Python and NumPy docs through
# intersphinx, which this build does not use (no network): keep them plain.
numpydoc_xref_aliases = {
    "bool": "bool",
    "boolean": "bool",
    "iterable": "iterable",
    "sequence": "sequence",
    "generator": "generator",
    "array-like": "array-like",
    "array_like": "array-like",
    "scalar": "scalar",
}

# Examples gallery, built from ../examples. Every plot_*.py script runs.
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    # "Examples using X" on the API pages of the names each example uses.
    "doc_module": ("sklearn_2dbm",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_2dbm": None},
}

# Figures drawn by matplotlib scripts at build time (docs/_figures/*.py); the
# images go to the build folder only, never into the source tree.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 120)]
plot_rcparams = {"font.size": 9}
plot_apply_rcparams = True

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-2dbm {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"install": [], "quickstart": [], "changelog": []}


def _defining_module(member):
    """Module that defines a method, property or other class member."""
    target = getattr(member, "fget", member)  # properties
    target = getattr(target, "__func__", target)  # classmethods
    return getattr(target, "__module__", None) or ""


def skip_foreign_members(app, what, name, obj, skip, options):
    """Document inherited members only when sklearn-2dbm defines them.

    The class pages list inherited members, so that methods defined on a
    private base class of this package appear on the public class. Methods
    inherited from scikit-learn or skorch (``get_params``, ``set_output``,
    ...) are documented there and are left out here.
    """
    if what == "class" and not _defining_module(obj).startswith("sklearn_2dbm"):
        return True
    return None


# "(n_features_in_,)": numpydoc leaves a one-element shape alone when it
# turns types into cross-references, and reStructuredText then reads the
# trailing underscore as a link to an undefined target.
_ONE_ELEMENT_SHAPE = re.compile(r"\((\s*)([A-Za-z][A-Za-z0-9_]*_)(\s*),\s*\)")


def quote_one_element_shapes(app, what, name, obj, options, lines):
    """Show ``(attribute_,)`` shapes as code in docstrings."""
    for i, line in enumerate(lines):
        lines[i] = _ONE_ELEMENT_SHAPE.sub(r"(\1``\2``\3,)", line)


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_members)
    # Before numpydoc (priority 500) parses the docstring.
    app.connect("autodoc-process-docstring", quote_one_element_shapes, priority=400)
