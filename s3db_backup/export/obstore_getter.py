"""GETs through obstore (Rust, object_store): about a quarter of boto3's client CPU per GET (measured
0.36 ms against 1.36 ms on moto_server, 16 threads), so one chunk can keep many more requests in flight.
Optional: the engine falls back to boto3 where obstore is not installed."""

from __future__ import annotations

from typing import Any

from s3db_backup.archive.lines import StoredObject
from s3db_backup.export.reader import Getter
from s3db_backup.locations import S3Location

#: obstore's names for the standard attributes we keep; every other attribute is user metadata (S3 keeps
#: user metadata keys in lower case, so they cannot collide with these).
_STANDARD = {
    "Cache-Control": "CacheControl",
    "Content-Disposition": "ContentDisposition",
    "Content-Encoding": "ContentEncoding",
    "Content-Language": "ContentLanguage",
}


def available() -> bool:
    try:
        import obstore  # noqa: F401
    except ImportError:
        return False
    return True


def obstore_getter(source: S3Location, *, session: Any, region: str, endpoint_url: str | None) -> Getter:
    """A getter signing with `session`'s credentials; `endpoint_url` None means AWS's own endpoints."""
    import obstore
    from obstore.auth.boto3 import Boto3CredentialProvider
    from obstore.exceptions import NotFoundError
    from obstore.store import S3Store

    options: dict[str, Any] = {"region": region, "credential_provider": Boto3CredentialProvider(session)}
    if endpoint_url:
        options["endpoint"] = endpoint_url
        options["client_options"] = {"allow_http": endpoint_url.startswith("http://")}
    store = S3Store(source.bucket, **options)

    def get(key: str) -> StoredObject | None:
        try:
            result = obstore.get(store, source.key(key))
            body = result.bytes().to_bytes()
        except (NotFoundError, FileNotFoundError):  # obstore raises the latter for a 404 on GET
            return None
        attributes = dict(result.attributes)
        content_type = attributes.pop("Content-Type", None)
        headers = {_STANDARD[k]: str(attributes.pop(k)) for k in list(attributes) if k in _STANDARD}
        return StoredObject(key=key, metadata={str(k): str(v) for k, v in attributes.items()},
                            content_type=content_type, body=body, headers=headers)

    return get
