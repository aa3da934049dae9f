"""The AWS Well-Architected Tool operations Archlens answers, one module per resource.

Importing this package registers every operation with api.routing.
"""

from api.operations import (  # noqa: F401
    lens_reviews,
    lens_shares,
    lenses,
    milestones,
    notifications,
    profiles,
    reports,
    review_templates,
    shares,
    tags,
    unsupported,
    workloads,
)
