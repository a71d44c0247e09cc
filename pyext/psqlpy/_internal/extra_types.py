"""psqlpy.extra_types under the psqlpy 0.13 module name psqlpy._internal.extra_types."""

from psqlpy.extra_types import *  # noqa: F401,F403
from psqlpy.extra_types import __all__ as __all__  # noqa: F401
