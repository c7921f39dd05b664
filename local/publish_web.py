"""`make publish-web [STACK=name]`: upload frontend/dist to a deployed stack's WebBucket (as the
local runtime fills its own) and invalidate the CloudFront cache of index.html."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import boto3

from local.runtime.cdn import publish

ROOT = Path(__file__).resolve().parents[1]


def main(stack_name: str) -> int:
    outputs = {o["OutputKey"]: o["OutputValue"] for o in boto3.client("cloudformation")
               .describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])}
    count = publish(boto3.client("s3"), outputs["WebBucketName"], ROOT / "frontend" / "dist")
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["WebDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/index.html"]},
                           "CallerReference": str(time.time())})
    print(f"{count} files uploaded; the UI is at {outputs['WebUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "pyairtable"))
