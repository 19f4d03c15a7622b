"""The fault proxy in front of moto does what end-to-end tests rely on, seen by plain boto3.

Each fault is checked from both sides: what botocore (with its real retry behaviour) reports,
and what moto really holds afterwards, read through the inspector. Operation names, the signing
key, latency overlap and the command-line entry are checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from tests.fixtures.aws_operations import s3_operation
from tests.fixtures.faults import INSPECTOR_KEY_ID, FaultProxy

ROOT = Path(__file__).resolve().parents[2]
ONE_TRY = Config(retries={"total_max_attempts": 1})


def client(service: str, **kwargs):
    """A plain boto3 client, configured by the environment ``faulty_aws`` set (region aside:
    boto3 reads AWS_DEFAULT_REGION, the product reads AWS_REGION)."""
    return boto3.client(service, region_name="us-east-1", **kwargs)


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_operations_are_named_as_botocore_names_them(faulty_aws: FaultProxy):
    sts, iam, s3 = (client(s) for s in ("sts", "iam", "s3"))
    sts.get_caller_identity()
    iam.create_user(UserName="ci-user")
    s3.create_bucket(Bucket="builds-bucket")
    s3.put_public_access_block(Bucket="builds-bucket", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_tagging(Bucket="builds-bucket",
                          Tagging={"TagSet": [{"Key": "managed-by", "Value": "test"}]})
    s3.put_object(Bucket="builds-bucket", Key="builds/", Body=b"")
    s3.head_bucket(Bucket="builds-bucket")
    s3.head_object(Bucket="builds-bucket", Key="builds/")
    s3.get_public_access_block(Bucket="builds-bucket")
    s3.get_bucket_tagging(Bucket="builds-bucket")
    s3.list_buckets()
    s3.list_objects_v2(Bucket="builds-bucket", Prefix="builds/")
    s3.list_objects(Bucket="builds-bucket")
    s3.get_object(Bucket="builds-bucket", Key="builds/")["Body"].read()
    s3.copy_object(Bucket="builds-bucket", Key="builds/copy",
                   CopySource={"Bucket": "builds-bucket", "Key": "builds/"})
    s3.delete_object(Bucket="builds-bucket", Key="builds/copy")
    s3.delete_objects(Bucket="builds-bucket", Delete={"Objects": [{"Key": "builds/"}]})

    assert [c.operation for c in faulty_aws.calls()] == [
        "sts:GetCallerIdentity", "iam:CreateUser", "s3:CreateBucket", "s3:PutPublicAccessBlock",
        "s3:PutBucketTagging", "s3:PutObject", "s3:HeadBucket", "s3:HeadObject",
        "s3:GetPublicAccessBlock", "s3:GetBucketTagging", "s3:ListBuckets", "s3:ListObjectsV2",
        "s3:ListObjects", "s3:GetObject", "s3:CopyObject", "s3:DeleteObject",
        "s3:DeleteObjects",
    ]
    assert {c.key_id for c in faulty_aws.calls()} == {"testing"}
    assert [c.operation for c in faulty_aws.mutating()] == [
        "iam:CreateUser", "s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketTagging",
        "s3:PutObject", "s3:CopyObject", "s3:DeleteObject", "s3:DeleteObjects",
    ]
    assert all(c.outcome == "answered" and c.status == c.moto_status for c in faulty_aws.calls())


def test_s3_shapes_that_differ_only_by_query_members_or_headers():
    bucket, key = "/b", "/b/builds/x"
    assert s3_operation("PUT", key, "", {}) == "PutObject"
    assert s3_operation("PUT", key, "partNumber=1&uploadId=u", {}) == "UploadPart"
    assert s3_operation("PUT", key, "", {"x-amz-copy-source": "b/y"}) == "CopyObject"
    assert s3_operation("POST", key, "uploads", {}) == "CreateMultipartUpload"
    assert s3_operation("GET", bucket, "lifecycle", {}) == "GetBucketLifecycleConfiguration"
    assert s3_operation("GET", "/", "", {}) == "ListBuckets"
    assert s3_operation("GET", bucket + "/", "", {}) == "ListObjects"
    assert s3_operation("PUT", key, "tagging", {}) == "PutObjectTagging"
    assert s3_operation("PATCH", bucket, "", {}) == "PATCH /b"


def test_lose_answer_acts_then_botocore_retries_into_entity_already_exists(faulty_aws, inspector):
    faulty_aws.fail("iam:CreateUser", "lose_answer")
    with pytest.raises(ClientError) as error:
        client("iam").create_user(UserName="ci-user")  # default retries

    assert _code(error) == ("EntityAlreadyExists", 409)
    tries = faulty_aws.calls("iam:CreateUser")
    assert [(c.outcome, c.moto_status, c.status) for c in tries] == [
        ("lose_answer", 200, 500), ("answered", 409, 409)]
    users = inspector().client("iam").list_users()["Users"]
    assert [u["UserName"] for u in users] == ["ci-user"]


def test_lose_answer_on_s3_says_internal_error(faulty_aws, inspector):
    faulty_aws.fail("s3:PutBucketTagging", "lose_answer")
    client("s3").create_bucket(Bucket="builds-bucket")
    with pytest.raises(ClientError) as error:
        client("s3", config=ONE_TRY).put_bucket_tagging(
            Bucket="builds-bucket", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})

    assert _code(error) == ("InternalError", 500)
    tags = inspector().client("s3").get_bucket_tagging(Bucket="builds-bucket")["TagSet"]
    assert tags == [{"Key": "k", "Value": "v"}]


def test_refuse_answers_access_denied_and_leaves_moto_untouched(faulty_aws, inspector):
    iam, s3 = client("iam"), client("s3")
    iam.create_user(UserName="ci-user")
    s3.create_bucket(Bucket="builds-bucket")
    faulty_aws.fail("iam:CreateAccessKey", "refuse")
    faulty_aws.fail("s3:PutBucketTagging", "refuse")

    with pytest.raises(ClientError) as denied:
        iam.create_access_key(UserName="ci-user")
    assert _code(denied) == ("AccessDenied", 403)
    assert denied.value.response["Error"]["Type"] == "Sender"
    assert "iam:CreateAccessKey" in denied.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as denied_s3:
        s3.put_bucket_tagging(Bucket="builds-bucket", Tagging={"TagSet": []})
    assert _code(denied_s3) == ("AccessDenied", 403)

    peek = inspector()
    assert peek.client("iam").list_access_keys(UserName="ci-user")["AccessKeyMetadata"] == []
    with pytest.raises(ClientError) as no_tags:
        peek.client("s3").get_bucket_tagging(Bucket="builds-bucket")
    assert _code(no_tags)[0] == "NoSuchTagSet"
    refused = [c for c in faulty_aws.calls() if c.outcome == "refuse"]
    assert [(c.operation, c.moto_status) for c in refused] == [
        ("iam:CreateAccessKey", None), ("s3:PutBucketTagging", None)]
    # The rule was for one call: the next one goes through.
    assert iam.create_access_key(UserName="ci-user")["AccessKey"]["UserName"] == "ci-user"


def test_throttle_codes_and_a_single_throttle_is_retried_by_botocore(faulty_aws):
    faulty_aws.fail("sts:GetCallerIdentity", "throttle")
    faulty_aws.fail("s3:ListBuckets", "throttle")
    with pytest.raises(ClientError) as throttled:
        client("sts", config=ONE_TRY).get_caller_identity()
    assert _code(throttled) == ("Throttling", 400)
    with pytest.raises(ClientError) as slow:
        client("s3", config=ONE_TRY).list_buckets()
    assert _code(slow) == ("SlowDown", 503)

    faulty_aws.fail("iam:ListUsers", "throttle")
    assert client("iam").list_users()["Users"] == []  # default retries absorb it
    assert [c.outcome for c in faulty_aws.calls("iam:ListUsers")] == ["throttle", "answered"]
    assert all(c.moto_status is None for c in faulty_aws.calls() if c.outcome == "throttle")


def test_drop_acts_then_closes_the_connection_without_an_answer(faulty_aws, inspector):
    faulty_aws.fail("iam:CreateGroup", "drop")
    with pytest.raises(ConnectionClosedError):
        client("iam", config=ONE_TRY).create_group(GroupName="ci-group")

    [dropped] = faulty_aws.calls("iam:CreateGroup")
    assert (dropped.outcome, dropped.moto_status, dropped.status) == ("drop", 200, None)
    groups = inspector().client("iam").list_groups()["Groups"]
    assert [g["GroupName"] for g in groups] == ["ci-group"]


def test_late_answer_lets_a_test_kill_the_client_while_the_secret_is_in_flight(
        faulty_aws, inspector):
    iam = inspector().client("iam")
    iam.create_user(UserName="ci-user")
    faulty_aws.fail("iam:CreateAccessKey", "late", delay=20)
    client = subprocess.Popen(
        [sys.executable, "-c", "import boto3; iam = boto3.client('iam', region_name='us-east-1'); "
         "print(iam.create_access_key(UserName='ci-user')['AccessKey']['AccessKeyId'])"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        faulty_aws.wait_for("iam:CreateAccessKey", timeout=15)
        assert client.poll() is None  # moto acted, the client is still waiting
    finally:
        client.kill()
    assert client.communicate(timeout=10)[0] == b""
    assert len(iam.list_access_keys(UserName="ci-user")["AccessKeyMetadata"]) == 1
    with pytest.raises(TimeoutError):
        faulty_aws.wait_for("iam:CreateAccessKey", count=2, timeout=0.05)
    started = time.monotonic()
    faulty_aws.reset()  # releases the sleeping answer instead of waiting out the delay
    assert time.monotonic() - started < 5


def test_rules_can_target_one_signing_key_and_every_call(faulty_aws):
    faulty_aws.fail("iam:Create*", "refuse", times=None, key_id="second-test-key")
    other = boto3.Session(aws_access_key_id="second-test-key",
                          aws_secret_access_key="second-test-secret",
                          region_name="us-east-1").client("iam")
    mine = client("iam")
    for name in ("a", "b"):
        with pytest.raises(ClientError):
            other.create_user(UserName=name)
    mine.create_user(UserName="mine")
    assert other.list_users()["Users"][0]["UserName"] == "mine"
    assert [(c.key_id, c.outcome) for c in faulty_aws.calls()] == [
        ("second-test-key", "refuse"), ("second-test-key", "refuse"),
        ("testing", "answered"), ("second-test-key", "answered")]
    assert faulty_aws.count("iam:CreateUser") == 3
    with pytest.raises(ValueError):
        faulty_aws.fail("CreateUser", "refuse")
    with pytest.raises(ValueError):
        faulty_aws.fail("iam:CreateUser", "explode")


def test_key_id_wildcards_select_the_keys_moto_made(faulty_aws, inspector):
    """Requests signed by a key AWS made (moto's AKIA... ids) can be faulted apart from the
    operator's own."""
    iam = inspector().client("iam")
    iam.create_user(UserName="ci-user")
    made = iam.create_access_key(UserName="ci-user")["AccessKey"]
    faulty_aws.fail("sts:GetCallerIdentity", "refuse", times=None, key_id="AKIA*")
    signed_by_made = boto3.Session(aws_access_key_id=made["AccessKeyId"],
                                   aws_secret_access_key=made["SecretAccessKey"],
                                   region_name="us-east-1").client("sts")
    with pytest.raises(ClientError) as denied:
        signed_by_made.get_caller_identity()
    assert _code(denied) == ("AccessDenied", 403)
    assert client("sts").get_caller_identity()["Account"]
    assert [(c.key_id == made["AccessKeyId"], c.outcome) for c in faulty_aws.calls()] == [
        (True, "refuse"), (False, "answered")]


def test_reply_answers_without_asking_moto(faulty_aws, inspector):
    body = ("<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated>"
            "</ListUsersResult></ListUsersResponse>")
    inspector().client("iam").create_user(UserName="hidden-by-the-reply")
    faulty_aws.fail("iam:ListUsers", "reply", reply=(200, body))
    assert client("iam").list_users()["Users"] == []
    assert [u["UserName"] for u in client("iam").list_users()["Users"]] == [
        "hidden-by-the-reply"]
    assert [(c.outcome, c.moto_status) for c in faulty_aws.calls()] == [
        ("reply", None), ("answered", 200)]
    with pytest.raises(ValueError):
        faulty_aws.fail("iam:ListUsers", "reply")
    with pytest.raises(ValueError):
        faulty_aws.fail("iam:ListUsers", "refuse", reply=(200, body))


def test_release_late_and_clear_rules_keep_moto_and_the_log(faulty_aws, inspector):
    faulty_aws.fail("iam:CreateUser", "late", delay=60)
    faulty_aws.fail("iam:CreateGroup", "refuse", times=None)
    done = threading.Event()
    threading.Thread(target=lambda: (client("iam").create_user(UserName="late-user"),
                                     done.set()), daemon=True).start()
    faulty_aws.wait_for("iam:CreateUser")
    started = time.monotonic()
    faulty_aws.release_late()
    assert done.wait(10) and time.monotonic() - started < 5
    faulty_aws.clear_rules()
    client("iam").create_group(GroupName="after-the-rules")
    assert [u["UserName"] for u in inspector().client("iam").list_users()["Users"]] == [
        "late-user"]
    assert [(c.operation, c.outcome) for c in faulty_aws.calls()] == [
        ("iam:CreateUser", "late"), ("iam:CreateGroup", "answered")]


def test_latency_overlaps_for_concurrent_requests_and_adds_up_for_sequential_ones(faulty_aws):
    clients = [client("sts") for _ in range(4)]
    for sts in clients:  # a client's first call loads models: keep that out of the timing
        sts.get_caller_identity()
    faulty_aws.clear_log()
    faulty_aws.latency = 0.25
    gate = threading.Barrier(len(clients))

    def call(sts) -> None:
        gate.wait()
        sts.get_caller_identity()

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    together = time.monotonic() - started
    assert 0.25 <= together < 0.45
    assert faulty_aws.max_in_flight() == 4
    assert faulty_aws.rounds() == 1

    faulty_aws.clear_log()
    started = time.monotonic()
    for sts in clients[:3]:
        sts.get_caller_identity()
    assert time.monotonic() - started >= 0.75
    assert (faulty_aws.max_in_flight(), faulty_aws.rounds()) == (1, 3)
    assert all(c.ended - c.started >= 0.25 for c in faulty_aws.calls())


def test_inspector_bypasses_faults_latency_and_the_log(faulty_aws, inspector):
    faulty_aws.latency = 0.5
    faulty_aws.fail("iam:*", "refuse", times=None)
    peek = inspector().client("iam")
    started = time.monotonic()
    peek.create_user(UserName="seen-by-inspector")
    assert time.monotonic() - started < 0.4
    assert faulty_aws.calls() == []

    with pytest.raises(ClientError) as denied:
        client("iam").get_user(UserName="seen-by-inspector")
    assert _code(denied) == ("AccessDenied", 403)
    assert peek.get_user(UserName="seen-by-inspector")["User"]["UserName"] == "seen-by-inspector"
    assert [c.key_id for c in faulty_aws.calls()] == ["testing"]
    assert INSPECTOR_KEY_ID not in {c.key_id for c in faulty_aws.calls()}


def test_reset_clears_moto_rules_log_and_latency(faulty_aws, inspector):
    client("iam").create_user(UserName="gone-after-reset")
    faulty_aws.fail("iam:ListUsers", "refuse", times=None)
    faulty_aws.latency = 1.0
    faulty_aws.reset()
    assert faulty_aws.latency == 0.0
    assert client("iam").list_users()["Users"] == []
    assert [(c.operation, c.outcome) for c in faulty_aws.calls()] == [
        ("iam:ListUsers", "answered")]


def test_command_line_serves_with_latency_faults_and_a_json_log():
    proxy = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.faults", "--port", "0", "--latency", "0.05",
         "--fault", "iam:CreateUser=refuse"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = proxy.stdout.readline().strip()
        assert endpoint.startswith("http://127.0.0.1:")
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=ONE_TRY)
        with pytest.raises(ClientError) as denied:
            iam.create_user(UserName="ci-user")
        assert _code(denied) == ("AccessDenied", 403)
        iam.create_user(UserName="ci-user")
        with urllib.request.urlopen(f"{endpoint}/fault-proxy/calls") as answer:
            log = json.load(answer)
        assert [(c["operation"], c["outcome"]) for c in log] == [
            ("iam:CreateUser", "refuse"), ("iam:CreateUser", "answered")]
        assert all(c["ended"] - c["started"] >= 0.05 for c in log)
    finally:
        proxy.terminate()
        assert proxy.wait(timeout=10) == 0
        proxy.stdout.close()
