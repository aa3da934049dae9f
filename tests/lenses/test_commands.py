"""import_lens, export_lens and load_builtin_lens, through call_command and the command line."""

import json
import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lenses.lens_format import read_lens_file
from lenses.models import Choice, Lens, LensVersion, Pillar, Question, RiskRule
from tests.factories import lens_bytes, lens_document

ROOT = Path(__file__).resolve().parents[2]
LENS_MODELS = (Lens, LensVersion, Pillar, Question, Choice, RiskRule)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in LENS_MODELS}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def lens_file(tmp_path: Path) -> Path:
    path = tmp_path / "test-lens.json"
    path.write_bytes(lens_bytes())
    return path


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    document = lens_document(name="")
    document["pillars"][1]["questions"][0]["riskRules"][0]["condition"] = "!nope"
    path = tmp_path / "broken.json"
    path.write_bytes(lens_bytes(document))
    return path


def write_lens(tmp_path: Path, name: str, **kwargs) -> Path:
    path = tmp_path / name
    path.write_bytes(lens_bytes(**kwargs))
    return path


# --- import_lens -------------------------------------------------------------------------------


def test_import_lens_prints_the_alias_and_draft(db, lens_file):
    out, _ = run("import_lens", str(lens_file))

    assert out == "test-lens draft\n"
    assert LensVersion.objects.get().is_draft


def test_import_lens_with_publish_prints_the_alias_and_1_0(db, lens_file):
    out, _ = run("import_lens", str(lens_file), "--publish")

    assert out == "test-lens 1.0\n"
    assert LensVersion.objects.get().status == LensVersion.Status.PUBLISHED


def test_import_lens_with_publish_again_prints_1_1(db, lens_file):
    run("import_lens", str(lens_file), "--publish")
    document = json.loads(lens_file.read_text())
    document["description"] = "The second version."
    lens_file.write_text(json.dumps(document))

    out, _ = run("import_lens", str(lens_file), "--publish")

    assert out == "test-lens 1.1\n"


def test_import_lens_of_a_file_identical_to_the_latest_version_creates_nothing(db, lens_file):
    run("import_lens", str(lens_file), "--publish")
    before = counts()

    with pytest.raises(CommandError, match="identical to Test Lens 1.0"):
        run("import_lens", str(lens_file), "--publish")

    assert counts() == before


def test_an_explicit_alias_is_obeyed_even_when_the_name_matches_another_lens(db, lens_file):
    run("import_lens", str(lens_file), "--publish")

    out, _ = run("import_lens", str(lens_file), "--alias", "another-lens")

    assert out == "another-lens draft\n"
    assert sorted(Lens.objects.values_list("alias", flat=True)) == ["another-lens", "test-lens"]


def test_import_lens_takes_an_alias(db, lens_file):
    out, _ = run("import_lens", str(lens_file), "--alias", "my-lens")

    assert out == "my-lens draft\n"
    assert Lens.objects.get().alias == "my-lens"


@pytest.mark.parametrize("alias", ["Not a slug", "a" * 129])
def test_import_lens_refuses_an_alias_that_is_not_a_slug(db, lens_file, alias):
    with pytest.raises(CommandError):
        run("import_lens", str(lens_file), "--alias", alias)

    assert counts()["Lens"] == 0


def test_import_lens_prints_the_warnings_on_stderr(db, tmp_path):
    document = lens_document()
    document["_version"] = 4
    path = tmp_path / "lens.json"
    path.write_bytes(lens_bytes(document))

    out, err = run("import_lens", str(path))

    assert out == "test-lens draft\n"
    assert err == "warning: _version: unknown key; ignored\n"


def test_import_lens_refuses_an_invalid_file_with_the_located_errors(db, broken_file):
    err = StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_lens", str(broken_file), stdout=StringIO(), stderr=err)

    assert str(caught.value) == (
        f"{broken_file}: not imported, 2 problem(s) found; nothing was changed"
    )
    assert err.getvalue() == (
        "error: name: must not be empty\n"
        "error: pillars[1].questions[0].riskRules[0].condition: unknown choice 'nope'\n"
    )


def test_import_lens_creates_nothing_from_an_invalid_file(db, broken_file):
    before = counts()

    with pytest.raises(CommandError):
        run("import_lens", str(broken_file), "--publish")

    assert counts() == before


def test_import_lens_explains_a_missing_path(db, tmp_path):
    missing = tmp_path / "nowhere.json"

    with pytest.raises(CommandError) as caught:
        run("import_lens", str(missing))

    assert str(caught.value) == f"{missing}: cannot read the file (No such file or directory)"


def test_import_lens_explains_a_folder_given_as_path(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        run("import_lens", str(tmp_path))

    assert str(caught.value) == f"{tmp_path}: cannot read the file (Is a directory)"


# --- export_lens -------------------------------------------------------------------------------


def test_export_lens_writes_the_newest_published_version_as_json(db, tmp_path):
    run("import_lens", str(write_lens(tmp_path, "a.json", questions=1)), "--publish")
    run("import_lens", str(write_lens(tmp_path, "b.json", questions=3)), "--publish")

    out, _ = run("export_lens", "test-lens")

    assert json.loads(out) == lens_document(questions=3)


def test_export_lens_with_version_picks_that_version(db, tmp_path):
    run("import_lens", str(write_lens(tmp_path, "a.json", questions=1)), "--publish")
    run("import_lens", str(write_lens(tmp_path, "b.json", questions=3)), "--publish")

    out, _ = run("export_lens", "test-lens", "--version", "1.0")

    assert json.loads(out) == lens_document(questions=1)


def test_export_lens_with_version_draft_picks_the_draft(db, tmp_path):
    run("import_lens", str(write_lens(tmp_path, "a.json", questions=1)), "--publish")
    run("import_lens", str(write_lens(tmp_path, "b.json", questions=2)))

    out, _ = run("export_lens", "test-lens", "--version", "draft")

    assert json.loads(out) == lens_document(questions=2)


def test_export_lens_without_version_leaves_out_the_draft(db, lens_file):
    run("import_lens", str(lens_file))

    with pytest.raises(CommandError) as caught:
        run("export_lens", "test-lens")

    assert "'test-lens'" in str(caught.value)


def test_export_lens_of_an_unknown_alias_is_a_clear_error(db):
    with pytest.raises(CommandError) as caught:
        run("export_lens", "nope")

    assert str(caught.value) == "There is no published version of lens 'nope'."


def test_export_lens_of_an_unknown_version_is_a_clear_error(db, lens_file):
    run("import_lens", str(lens_file), "--publish")

    with pytest.raises(CommandError) as caught:
        run("export_lens", "test-lens", "--version", "9.9")

    assert str(caught.value) == "There is no version 9.9 of lens 'test-lens'."


def test_export_lens_output_imports_back_unchanged(db, lens_file, tmp_path):
    run("import_lens", str(lens_file), "--publish")
    exported = tmp_path / "exported.json"
    exported.write_text(run("export_lens", "test-lens")[0])

    run("import_lens", str(exported), "--publish", "--alias", "test-lens-copy")

    assert run("export_lens", "test-lens-copy")[0] == exported.read_text()


# --- load_builtin_lens -------------------------------------------------------------------------


def test_load_builtin_lens_publishes_it_once(db):
    first, _ = run("load_builtin_lens")
    second, _ = run("load_builtin_lens")

    assert first == "wellarchitected 1.0 published\n"
    assert second == "wellarchitected 1.0 up to date\n"
    assert LensVersion.objects.filter(lens__alias="wellarchitected").count() == 1


# --- the command line, as an operator runs it --------------------------------------------------


@pytest.fixture(scope="module")
def command_line(tmp_path_factory):
    """Run manage.py against a fresh, migrated SQLite database of its own."""
    folder = tmp_path_factory.mktemp("command-line")
    database = folder / "archlens.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ARCHLENS_VAR_DIR": str(folder / "var"),
        "SECRET_KEY": "only-for-command-line-tests",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    manage.database = database
    return manage


def lens_count(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM lenses_lens").fetchone()[0]


def test_the_command_line_imports_publishes_and_exports_a_lens(command_line, lens_file):
    imported = command_line("import_lens", str(lens_file), "--publish")
    exported = command_line("export_lens", "test-lens", "--version", "1.0")

    assert (imported.returncode, imported.stdout) == (0, "test-lens 1.0\n")
    assert exported.returncode == 0
    assert json.loads(exported.stdout) == read_lens_file(lens_file.read_bytes()).data


def test_the_command_line_refuses_an_invalid_file_without_a_traceback(command_line, broken_file):
    before = lens_count(command_line.database)

    result = command_line("import_lens", str(broken_file))

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "error: pillars[1].questions[0].riskRules[0].condition: unknown choice 'nope'" in (
        result.stderr
    )
    assert "nothing was changed" in result.stderr
    assert result.stdout == ""
    assert lens_count(command_line.database) == before
