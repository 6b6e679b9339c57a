"""A benchmark database of N small records in s3db.js format: s3db.js writes one record, which is cloned
under N ids (a clone differs only in its key, so each is a valid s3db.js record of the same resource)."""

from __future__ import annotations

import asyncio
from typing import Any

from s3db_backup.format.layout import record_key
from s3db_backup.local import s3dbjs
from s3db_backup.local.moto_server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, MotoServer

RESOURCE = "items"


def record_id(i: int) -> str:
    return f"i-{i:07d}"


def make_dataset(server: MotoServer, bucket: str, prefix: str, n: int, concurrency: int = 64) -> dict[str, Any]:
    import obstore
    from obstore.store import S3Store

    server.create_bucket(bucket)
    connection = s3dbjs.connection_string(server.endpoint_url, bucket, prefix, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)
    s3dbjs.ensure_installed()
    s3dbjs.run_script("bench_template.mjs", ["--connection", connection])
    s3 = server.client("s3")
    template_key = f"{prefix}/{record_key(RESOURCE, 'template')}"
    template = s3.get_object(Bucket=bucket, Key=template_key)
    body = template["Body"].read()
    attributes = {**template["Metadata"], "Content-Type": template["ContentType"]}
    store = S3Store(bucket, endpoint=server.endpoint_url, access_key_id=DEFAULT_ACCESS_KEY,
                    secret_access_key=DEFAULT_SECRET_KEY, region="us-east-1", client_options={"allow_http": True})

    async def clone_all() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def clone(i: int) -> None:
            async with gate:
                await obstore.put_async(store, f"{prefix}/{record_key(RESOURCE, record_id(i))}", body,
                                        attributes=attributes)

        await asyncio.gather(*(clone(i) for i in range(1, n + 1)))

    asyncio.run(clone_all())
    s3.delete_object(Bucket=bucket, Key=template_key)
    return {"bucket": bucket, "prefix": prefix, "records": n, "connection": connection,
            "metadataBytes": sum(len(k) + len(v) for k, v in template["Metadata"].items())}
