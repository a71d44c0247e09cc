"""psqlpy.exceptions under the psqlpy 0.13 module name psqlpy._internal.exceptions."""

from psqlpy.exceptions import *  # noqa: F401,F403
from psqlpy.exceptions import __all__ as __all__  # noqa: F401
