"""Custom lenses for the API tests, made through the services the browser uses."""

import copy

from lenses.models import LensVersion
from lenses.services import lens_import, lens_version_publish
from tests.factories import lens_bytes, lens_document


def publish_lens(owner, *, name="Team Lens", alias=None, version="1.0", document=None):
    """A custom lens imported by `owner` and published as `version`."""
    draft = lens_import(
        raw=lens_bytes(document or lens_document(name=name)), user=owner, alias=alias
    )
    return lens_version_publish(lens_version=draft, version=version)


def next_document(version: LensVersion, *, title: str = "A better question?") -> dict:
    """The document of `version` with its first question retitled and a question p1_new added."""
    from lenses.services import lens_version_document

    document = copy.deepcopy(lens_version_document(version))
    questions = document["pillars"][0]["questions"]
    questions[0]["title"] = title
    extra = copy.deepcopy(questions[-1])
    extra["id"] = "p1_new"
    for choice in extra["choices"]:
        choice["id"] = choice["id"].replace(questions[-1]["id"], "p1_new")
    for rule in extra["riskRules"]:
        rule["condition"] = rule["condition"].replace(questions[-1]["id"], "p1_new")
    questions.append(extra)
    return document


def publish_next(
    version: LensVersion, owner, *, name: str = "1.1", title: str = "A better question?"
) -> LensVersion:
    """The next version of `version`'s lens (see next_document), published as `name`."""
    draft = lens_import(
        raw=lens_bytes(next_document(version, title=title)), user=owner, alias=version.lens.alias
    )
    return lens_version_publish(lens_version=draft, version=name)
