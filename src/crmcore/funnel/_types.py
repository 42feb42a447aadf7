"""numpy array aliases for the funnel analytics modules.

They live here, not in :mod:`crmcore.columnar`, so that importing
:mod:`crmcore.funnel` never imports the columnar package at module load:
``crmcore.columnar`` itself imports ``crmcore.kernel.stage`` (through the
customer schema), and the funnel package re-exports the analytics.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["AnyArray", "BoolArray", "Float64Array", "Int8Array", "Int64Array", "UIntArray"]

AnyArray: TypeAlias = npt.NDArray[Any]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Int8Array: TypeAlias = npt.NDArray[np.int8]
Int64Array: TypeAlias = npt.NDArray[np.int64]
Float64Array: TypeAlias = npt.NDArray[np.float64]
#: Signatures: bit masks of the steps and exclusions an event matches.
UIntArray: TypeAlias = npt.NDArray[np.unsignedinteger[Any]]
