"""What IAM authorizes for one AWS call: its action(s), resource ARN(s) and condition keys,
derived from the operation's input as the service does."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from local.runtime.iam.policy import Request

Params = dict[str, Any]
Deriver = Callable[[str, Params, str, str], list[Request]]

# Calls every principal may make, whatever its policies say.
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}

# S3 authorizes most operations under an action of another name.
_S3_ACTIONS = {
    "HeadObject": "GetObject", "HeadBucket": "ListBucket", "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket", "ListObjectVersions": "ListBucketVersions",
    "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject", "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads", "DeleteObjects": "DeleteObject",
    "GetObjectAttributes": "GetObject", "UploadPartCopy": "PutObject", "CopyObject": "PutObject",
    "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
# Batch and transaction operations are authorized per item under the single-item action.
_BATCH_ACTIONS = {
    ("sqs", "SendMessageBatch"): "SendMessage", ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
}


def requests_for(prefix: str, operation: str, params: Params, region: str,
                 account: str) -> list[Request]:
    """The authorization requests one call makes (all must be allowed)."""
    deriver = _DERIVERS.get(prefix)
    if deriver is None:
        return [Request(f"{prefix}:{operation}", "*")]
    return deriver(operation, params, region, account)


def _s3(operation: str, params: Params, region: str, account: str) -> list[Request]:
    action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
    bucket = params.get("Bucket")
    if not bucket:
        return [Request(action, "*")]
    if operation == "DeleteObjects":
        keys = [o["Key"] for o in (params.get("Delete") or {}).get("Objects", [])]
        return [Request(action, f"arn:aws:s3:::{bucket}/{k}") for k in keys]
    if "Key" in params:
        requests = [Request(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
        source = params.get("CopySource")
        if source:
            if isinstance(source, dict):
                source = f"{source['Bucket']}/{source['Key']}"
            requests.append(Request("s3:GetObject", f"arn:aws:s3:::{source.lstrip('/')}"))
        return requests
    return [Request(action, f"arn:aws:s3:::{bucket}")]


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else \
        f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _dynamodb(operation: str, params: Params, region: str, account: str) -> list[Request]:
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [Request(f"dynamodb:{operation}", _table_arn(t, region, account))
                for t in params.get("RequestItems", {})]
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        return [Request(f"dynamodb:{kinds[kind]}", _table_arn(body["TableName"], region, account))
                for item in params.get("TransactItems", []) for kind, body in item.items()]
    table = params.get("TableName")
    resource = _table_arn(table, region, account) if table else "*"
    if table and params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    return [Request(f"dynamodb:{operation}", resource)]


def _queue_arn(url_or_name: str, region: str, account: str) -> str:
    name = url_or_name.rstrip("/").rsplit("/", 1)[-1]
    owner = url_or_name.rstrip("/").rsplit("/", 2)[-2] if "/" in url_or_name else account
    return f"arn:aws:sqs:{region}:{owner}:{name}"


def _sqs(operation: str, params: Params, region: str, account: str) -> list[Request]:
    action = f"sqs:{_BATCH_ACTIONS.get(('sqs', operation), operation)}"
    target = params.get("QueueUrl") or params.get("QueueName")
    return [Request(action, _queue_arn(target, region, account) if target else "*")]


def _sns(operation: str, params: Params, region: str, account: str) -> list[Request]:
    return [Request(f"sns:{operation}", params.get("TopicArn") or params.get("TargetArn") or "*")]


def _states(operation: str, params: Params, region: str, account: str) -> list[Request]:
    resource = (params.get("stateMachineArn") or params.get("executionArn")
                or params.get("mapRunArn") or "*")
    return [Request(f"states:{operation}", resource)]


def _bus_arn(name: str | None, region: str, account: str) -> str:
    name = name or "default"
    return name if name.startswith("arn:") else \
        f"arn:aws:events:{region}:{account}:event-bus/{name}"


def _events(operation: str, params: Params, region: str, account: str) -> list[Request]:
    if operation == "PutEvents":
        buses = {e.get("EventBusName") for e in params.get("Entries", [])} or {None}
        return [Request("events:PutEvents", _bus_arn(b, region, account))
                for b in sorted(buses, key=str)]
    if operation in {"DescribeEventBus", "DeleteEventBus", "CreateEventBus"}:
        return [Request(f"events:{operation}", _bus_arn(params.get("Name"), region, account))]
    if "Rule" in params or (operation.endswith("Rule") and "Name" in params):
        bus = params.get("EventBusName") or "default"
        bus = bus.rsplit("/", 1)[-1]
        rule = params.get("Rule") or params["Name"]
        path = f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}"
        return [Request(f"events:{operation}", f"arn:aws:events:{region}:{account}:{path}")]
    return [Request(f"events:{operation}", "*")]


def _secretsmanager(operation: str, params: Params, region: str,
                    account: str) -> list[Request]:
    secret = params.get("SecretId")
    if not secret:
        return [Request(f"secretsmanager:{operation}", "*")]
    # A name stands for the secret's ARN, whose random suffix is unknown here: a policy naming
    # the full ARN refuses it (use the ARN, as the template's environment gives it).
    resource = secret if secret.startswith("arn:") else \
        f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"
    return [Request(f"secretsmanager:{operation}", resource)]


def _key_arn(key: str, region: str, account: str) -> str:
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:aws:kms:{region}:{account}:{key}"
    return f"arn:aws:kms:{region}:{account}:key/{key}"


def _kms(operation: str, params: Params, region: str, account: str) -> list[Request]:
    key = params.get("KeyId")
    if not key and operation == "Decrypt" and params.get("CiphertextBlob"):
        # A symmetric ciphertext names its key (moto's format: the key id's 36 characters first).
        key = bytes(params["CiphertextBlob"][:36]).decode("ascii", "replace")
    context = {f"kms:EncryptionContext:{k}": v
               for k, v in (params.get("EncryptionContext") or {}).items()}
    return [Request(f"kms:{operation}", _key_arn(key, region, account) if key else "*", context)]


def _logs(operation: str, params: Params, region: str, account: str) -> list[Request]:
    group = params.get("logGroupName")
    if not group:
        return [Request(f"logs:{operation}", "*")]
    base = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    stream = params.get("logStreamName")
    if stream:
        return [Request(f"logs:{operation}", f"{base}:log-stream:{stream}")]
    return [Request(f"logs:{operation}", base if operation == "CreateLogGroup" else f"{base}:*")]


def _ses(operation: str, params: Params, region: str, account: str) -> list[Request]:
    sender = params.get("Source") or params.get("FromEmailAddress") or ""
    address = parseaddr(sender)[1]
    if not address:
        return [Request(f"ses:{operation}", "*")]
    recipients = [parseaddr(r)[1] for r in params.get("Destinations", [])]
    destination = params.get("Destination") or {}
    recipients += [parseaddr(r)[1] for part in ("ToAddresses", "CcAddresses", "BccAddresses")
                   for r in destination.get(part, [])]
    context: dict[str, Any] = {"ses:FromAddress": address}
    if recipients:
        context["ses:Recipients"] = recipients
    return [Request(f"ses:{operation}", f"arn:aws:ses:{region}:{account}:identity/{address}",
                    context)]


def _lambda(operation: str, params: Params, region: str, account: str) -> list[Request]:
    action = "lambda:InvokeFunction" if operation == "Invoke" else f"lambda:{operation}"
    name = params.get("FunctionName")
    if not name:
        return [Request(action, "*")]
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{region}:{account}:function:{name}"
    if params.get("Qualifier"):
        name += f":{params['Qualifier']}"
    return [Request(action, name)]


_DERIVERS: dict[str, Deriver] = {
    "s3": _s3, "dynamodb": _dynamodb, "sqs": _sqs, "sns": _sns, "states": _states,
    "events": _events, "secretsmanager": _secretsmanager, "kms": _kms, "logs": _logs,
    "ses": _ses, "lambda": _lambda,
}
