"""The deploy check's policy: the template has no finding that is not accepted with a reason,
and the rules do catch what they are about."""

from __future__ import annotations

from local.deploy_check import RULES, accepted, findings, translated_resources


def test_every_finding_on_the_template_is_accepted_with_a_reason():
    found = findings(translated_resources(), RULES.read_text())
    reasons = accepted()
    assert sorted(found - reasons.keys()) == []
    assert all(len(reason) > 20 for reason in reasons.values())


def test_a_wildcard_action_and_a_public_bucket_are_findings():
    role = {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p",
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "*",
                                              "Resource": "*"}]}}]}}
    bucket = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
              "UpdateReplacePolicy": "Retain", "Properties": {"BucketEncryption": {
                  "ServerSideEncryptionConfiguration": [
                      {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}}
    assert findings({"Role": role, "Bucket": bucket}, RULES.read_text()) == {
        ("iam_no_wildcard_action", "Role"), ("s3_bucket_blocks_public_access", "Bucket")}
