"""A griffe extension for the API reference (mkdocs.yml): a method the stubs
declare only as @overload variants (a stub file may not have an
implementation) is dropped by griffe's static reading, so it would be
missing from the reference.  This one documents it by its last variant,
the general one carrying the docstring, with the others as its overloads.
"""

from __future__ import annotations

from typing import Any

import griffe


class StubOverloads(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, variants in list(cls.overloads.items()):
            if variants and name not in cls.members:
                general = variants[-1]
                general.overloads = list(variants[:-1]) or None
                cls.set_member(name, general)
