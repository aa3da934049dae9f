"""Where generated files (reports, logos) live when several nodes serve Archlens.

Settings select PrivateS3Storage when an S3-compatible bucket is configured (ARCHLENS_S3_*),
else Django's FileSystemStorage under MEDIA_ROOT. Nothing in the bucket is public: objects are
written private and every download goes through the app, which checks access first.
"""

from __future__ import annotations

from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# A bucket that does not answer must not hold a web request or a report build for minutes:
# botocore's own default waits 60 s to connect and 60 s for each read.
TIMEOUTS = Config(
    connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
)


class StorageUnavailable(OSError):
    """The bucket could not be reached; like a local disk that fails, an OSError."""


class PrivateS3Storage(S3Storage):
    """django-storages' S3 backend, with bounded timeouts and downloads that stream.

    Its S3File reads an object by copying all of it into memory before the first byte can be
    sent; reading here hands over the object's body as it arrives from the bucket, so a report
    download costs a web process one buffer, whatever the report's size.
    """

    def __init__(self, **settings):
        super().__init__(**settings)
        self.client_config = self.client_config.merge(TIMEOUTS)

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            return super()._open(name, mode)
        return StreamedObject(self, name)

    def get_object(self, name: str) -> dict:
        key = self._normalize_name(clean_name(name))
        try:
            return self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as exc:
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"{name} is not in the bucket") from exc
            raise
        except (ConnectionError, HTTPClientError) as exc:
            raise StorageUnavailable(f"cannot read {name} from the bucket: {exc}") from exc


class StreamedObject(File):
    """An object of the bucket, read as its body arrives (forwards only).

    Opening it again once closed reads the object again, as a local file would be reopened, so
    a model's file field reads the same twice whatever the storage.
    """

    def __init__(self, storage: PrivateS3Storage, name: str) -> None:
        self._storage = storage
        self._fetch(name)

    def _fetch(self, name: str) -> None:
        answer = self._storage.get_object(name)
        super().__init__(answer["Body"], name=name)
        self.size = answer["ContentLength"]
        self._closed = False

    @property
    def closed(self) -> bool:
        # botocore's body never says it is closed, even once it is.
        return self._closed

    def close(self) -> None:
        self._closed = True
        super().close()

    def open(self, mode: str | None = None) -> StreamedObject:
        if self.closed:
            self._fetch(self.name)
        return self
