"""Where the raw layer lives when it is in S3-compatible object storage (`s3://bucket/prefix`).

The endpoint and the credentials come from the process environment when a store is opened,
never from config: the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
and `AWS_REGION`, and the endpoint of a server other than AWS's in `AFAS_PIPELINE_S3_ENDPOINT_URL`
(else the standard `AWS_ENDPOINT_URL`). The same settings open the fsspec filesystem (writes,
listings, DuckDB's reads through `register_filesystem`) and Polars' readers, so every reader
sees the same bucket. No secret is ever part of a path, a message or a file written here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_VARIABLE = "AFAS_PIPELINE_S3_ENDPOINT_URL"
_SCHEME = "s3://"


def is_object_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(_SCHEME)


@dataclass(frozen=True)
class ObjectStoreSettings:
    """How to reach the bucket; `repr` leaves the secrets out."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ObjectStoreSettings:
        env = os.environ if environ is None else environ
        return cls(
            endpoint_url=env.get(ENDPOINT_VARIABLE) or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
        )

    def filesystem(self) -> Any:
        """The fsspec filesystem of the bucket (s3fs); unset credentials fall back to
        botocore's own chain (instance roles, ~/.aws)."""
        import s3fs  # type: ignore[import-untyped]  # local raw layers never import botocore

        client_kwargs = {"region_name": self.region} if self.region else {}
        return s3fs.S3FileSystem(
            key=self.access_key_id,
            secret=self.secret_access_key,
            token=self.session_token,
            endpoint_url=self.endpoint_url,
            client_kwargs=client_kwargs,
            # Listings must show what was just written (manifests are found by listing).
            use_listings_cache=False,
        )

    def polars_options(self) -> dict[str, str]:
        """The same settings for Polars' own object-store readers."""
        options = {
            "aws_endpoint_url": self.endpoint_url,
            "aws_region": self.region or "us-east-1",
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }
        if self.endpoint_url and self.endpoint_url.startswith("http://"):
            options["aws_allow_http"] = "true"
        return {name: value for name, value in options.items() if value}


def bucket_path(url: str) -> str:
    """`s3://bucket/prefix/` as fsspec names it: `bucket/prefix`."""
    return url.removeprefix(_SCHEME).rstrip("/")


def object_url(path: str) -> str:
    """An fsspec path (`bucket/key`) as the URL readers take (`s3://bucket/key`)."""
    return _SCHEME + path
