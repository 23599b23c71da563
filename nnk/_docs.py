"""Docstring inheritance for nnk's class hierarchies (Module, Optimizer, schedules)."""
import inspect


def inherit_docstrings(cls):
    """Give each method or property ``cls`` defines without a docstring the docstring of
    the same name in its nearest base class, so that help() and editors show what an
    override does (a layer's forward, an optimiser's step)."""
    for name, value in vars(cls).items():
        func = value.fget if isinstance(value, property) else value
        if not (inspect.isfunction(func) and func.__doc__ is None):
            continue
        for base in cls.__mro__[1:]:
            inherited = getattr(base, name, None)
            doc = getattr(inherited, "__doc__", None)
            if doc:
                func.__doc__ = doc
                break
    return cls
