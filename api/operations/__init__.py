"""The AWS Well-Architected Tool operations Archlens answers, one module per resource.

Importing this package registers every operation with api.routing.
"""

from api.operations import (
    shares,  # noqa: F401
    tags,  # noqa: F401
    unsupported,  # noqa: F401
    workloads,  # noqa: F401
)
