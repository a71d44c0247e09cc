"""psqlpy.row_factories under the psqlpy 0.13 module name psqlpy._internal.row_factories."""

from psqlpy.row_factories import *  # noqa: F401,F403
from psqlpy.row_factories import __all__ as __all__  # noqa: F401
