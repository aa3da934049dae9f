from lenses.lens_format import document_digest, read_lens_file
from lenses.services import lens_version_document, lens_import, lens_version_publish
from lenses.models import LensVersion
from tests.factories import lens_bytes
import json
from reviews.models import Workload


def test_scratch(builtin_lens, db):
    assert document_digest(lens_version_document(builtin_lens)) == builtin_lens.digest
    v = lens_import(raw=lens_bytes())
    assert document_digest(lens_version_document(v)) == v.digest
    d = read_lens_file(json.dumps(lens_version_document(builtin_lens)).encode())
    assert d.digest == builtin_lens.digest
    print(d.warnings)
    w = Workload(name="", description="x", environment="BAD", owner_id=1)
    try:
        w.full_clean()
    except Exception as e:
        print(e.message_dict)
