"""The engine's S3 client: listed timestamps stay text (cheaper to parse), and the session is left as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3

from s3db_backup.s3client import make_s3_client


def test_listing_keeps_timestamps_as_text_without_touching_other_clients(s3: Any) -> None:
    s3.put_object(Bucket="srcdb", Key="a", Body=b"x")
    session = boto3.session.Session(region_name="us-east-1")
    ours = make_s3_client(session=session)
    [listed] = ours.list_objects_v2(Bucket="srcdb")["Contents"]
    assert listed["Key"] == "a" and isinstance(listed["LastModified"], str)
    [plain] = session.client("s3").list_objects_v2(Bucket="srcdb")["Contents"]
    assert isinstance(plain["LastModified"], datetime)
