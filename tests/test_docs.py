"""Every public name of nnk, nnk.nn, nnk.optim, nnk.text and nnk.distributed has a docstring (its
methods and properties too, inherited from the base where an override adds none), and
nnk._C ships a type stub that names every entry point."""
import inspect
import pathlib

import pytest

import nnk
from nnk import _C


def public(mod):
    for name in getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")]):
        obj = getattr(mod, name)
        if inspect.isclass(obj) or callable(obj):
            yield f"{mod.__name__}.{name}", obj


def undocumented():
    missing = []
    import nnk.distributed
    for mod in (nnk, nnk.nn, nnk.optim, nnk.text, nnk.nn.utils, nnk.nn.functional, nnk.distributed):
        for qual, obj in public(mod):
            if not (obj.__doc__ or "").strip():
                missing.append(qual)
            if inspect.isclass(obj):
                for name, member in inspect.getmembers(obj):
                    if name.startswith("_") and name != "__call__":
                        continue
                    if member is None or not (callable(member) or isinstance(
                            inspect.getattr_static(obj, name), property)):
                        continue
                    if isinstance(inspect.getattr_static(obj, name), property):
                        member = inspect.getattr_static(obj, name)
                    if not (getattr(member, "__doc__", None) or "").strip():
                        missing.append(f"{qual}.{name}")
    return sorted(set(missing))


def test_every_public_name_has_a_docstring():
    assert undocumented() == []


def test_an_undocumented_override_shows_its_bases_docstring():
    class Mine(nnk.nn.Module):
        def forward(self, x):
            return x

    assert Mine.forward.__doc__ == nnk.nn.Module.forward.__doc__


def test_the_extension_has_a_type_stub_for_every_entry_point():
    root = pathlib.Path(nnk.__file__).parent
    assert (root / "py.typed").exists()
    stub = (root / "_C.pyi").read_text()
    entries = [n for n in dir(_C) if not n.startswith("_")]
    for name in entries:
        assert f"def {name}(" in stub or f"{name}:" in stub, name
