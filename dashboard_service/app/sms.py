"""Text messages through Amazon SNS, and Korean mobile numbers in E.164 form.

SNS sends SMS from Tokyo (not from Seoul), so the region defaults to ap-northeast-1.
Credentials come from boto3's usual chain (environment, shared files, instance role).
"""
from __future__ import annotations

import os
import re

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_REGION = "ap-northeast-1"
# A settlement press waits for SNS at most about this long: one retry, short timeouts.
SNS_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

# 010, 011, 016-019 then 7 or 8 digits: 10-11 digits in all.
_KOREAN_MOBILE = re.compile(r"01[016-9][0-9]{7,8}", re.ASCII)


class SmsFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def e164(phone: str) -> str:
    """A Korean mobile number as E.164: 01012345678 -> +821012345678. ValueError for anything else."""
    digits = re.sub(r"[\s-]", "", phone or "")
    if digits.startswith("+82"):
        digits = "0" + digits[3:]
    if not _KOREAN_MOBILE.fullmatch(digits):
        raise ValueError("not a Korean mobile number (01X and 10-11 digits)")
    return "+82" + digits[1:]


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def configured() -> bool:
    """Whether boto3 finds AWS credentials; without them messages are only recorded."""
    return boto3.Session().get_credentials() is not None


def publish(*, phone: str, text: str) -> str:
    """Send one SMS; returns the SNS message id or raises SmsFailed with the reason."""
    try:
        client = boto3.Session().client("sns", region_name=region(), config=SNS_CONFIG)
        reply = client.publish(PhoneNumber=phone, Message=text)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SmsFailed(f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()) from None
    except BotoCoreError as exc:
        raise SmsFailed(str(exc)) from None
    return reply["MessageId"]
