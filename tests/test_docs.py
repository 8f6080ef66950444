"""The documentation covers the public API.

Every name in the three public ``__all__`` lists must appear in an
``autosummary`` block of ``docs/api.rst``, and every public class and function
must carry a numpydoc docstring with Parameters and Examples sections, plus
Returns for a function and Attributes for an estimator.
"""

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest
from numpydoc.docscrape import NumpyDocString
from sklearn.base import BaseEstimator

PUBLIC_MODULES = ("sklearn_2dbm", "sklearn_2dbm.datasets", "sklearn_2dbm.exceptions")
API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _public_names():
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name != "__version__":
                names.append((module_name, name, getattr(module, name)))
    return names


PUBLIC = _public_names()
PUBLIC_IDS = [f"{module}.{name}" for module, name, _ in PUBLIC]


def parse_autosummary_entries(text):
    """Return the fully qualified names listed in autosummary blocks of ``text``.

    ``.. currentmodule::`` sets the module that the following entries belong
    to; options (``:toctree:``) and blank lines inside a block are skipped.
    """
    entries = set()
    module = None
    in_block = False
    for line in text.splitlines():
        stripped = line.strip()
        current = re.match(r"^\.\. currentmodule::\s*(\S+)", stripped)
        if current:
            module = current.group(1)
            in_block = False
        elif stripped.startswith(".. autosummary::"):
            in_block = True
        elif in_block:
            if not stripped or stripped.startswith(":"):
                continue
            if not line.startswith((" ", "\t")):
                in_block = False
                continue
            name = stripped.split()[0].lstrip("~")
            entries.add(name if module is None else f"{module}.{name}")
    return entries


def test_parse_autosummary_entries_reads_modules_and_skips_options():
    text = (
        ".. currentmodule:: pkg\n\n"
        ".. autosummary::\n   :toctree: generated/\n\n   Foo\n   bar\n\n"
        "Heading\n-------\n\n"
        ".. currentmodule:: pkg.sub\n\n"
        ".. autosummary::\n   :nosignatures:\n\n   baz\n\n"
        "Not an entry\n"
    )
    assert parse_autosummary_entries(text) == {"pkg.Foo", "pkg.bar", "pkg.sub.baz"}


def test_every_public_name_is_in_the_api_reference():
    documented = parse_autosummary_entries(API_RST.read_text(encoding="utf-8"))
    missing = sorted(set(PUBLIC_IDS) - documented)
    assert not missing, (
        f"Public names missing from {API_RST.name} (add them to an autosummary "
        f"block under the right currentmodule): {missing}"
    )


def test_every_api_reference_entry_exists():
    documented = parse_autosummary_entries(API_RST.read_text(encoding="utf-8"))
    stale = []
    for qualified in sorted(documented):
        module_name, _, name = qualified.rpartition(".")
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            stale.append(qualified)
    assert not stale, f"{API_RST.name} lists names that do not exist: {stale}"


def _is_warning_class(obj):
    return inspect.isclass(obj) and issubclass(obj, Warning)


@pytest.mark.parametrize(("module", "name", "obj"), PUBLIC, ids=PUBLIC_IDS)
def test_public_docstring_has_parameters_and_examples(module, name, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{module}.{name} has no docstring"
    parsed = NumpyDocString(doc)
    assert parsed["Summary"], f"{module}.{name}: the docstring has no summary line"
    if _is_warning_class(obj):
        # A warning category takes no parameters and has nothing to run; a
        # summary that says when it is raised is what a user needs.
        return

    required = ["Parameters", "Examples"]
    if dataclasses.is_dataclass(obj):
        # The constructor arguments of a dataclass are its fields, which the
        # docstring documents once, under Attributes.
        required[0] = "Attributes"
        documented = {field.name for field in parsed["Attributes"]}
        undocumented = [
            field.name
            for field in dataclasses.fields(obj)
            if field.name not in documented
        ]
        assert not undocumented, (
            f"{module}.{name}: dataclass fields missing from Attributes: {undocumented}"
        )
    if inspect.isfunction(obj):
        required.append("Returns")
    elif inspect.isclass(obj) and issubclass(obj, BaseEstimator):
        required.append("Attributes")
    missing = [section for section in required if not parsed[section]]
    assert not missing, (
        f"{module}.{name}: the numpydoc docstring lacks the section(s) "
        f"{missing}; write them in numpydoc format (a title underlined with "
        "dashes)."
    )
