"""The AWS Well-Architected Tool operations Archlens answers, one module per resource.

Importing this package registers every operation with api.routing.
"""

from api.operations import lens_shares, lenses, notifications, shares, workloads  # noqa: F401
