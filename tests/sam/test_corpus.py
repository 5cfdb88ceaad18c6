"""Every template of the corpus runs under the simulator with its triggers fired.

The templates (``templates/``) are shaped like public SAM and CloudFormation examples: one per
event type and intrinsic function, and multi-function stacks whose handlers call AWS with
boto3 (through the simulator's edge). Resources are found by the names CloudFormation would
give them (``named``: a template's logical id -> eventsim's name).
"""

from __future__ import annotations

import base64
import json

import pytest

from eventsim import Outcome
from eventsim.config import load_config
from eventsim.testing import assert_delivered

from .conftest import Project, StartTemplate, named

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def test_s3_event_with_prefix_and_suffix_rules(start: StartTemplate) -> None:
    sim = await start("s3-thumbnails")
    bucket = sim.bucket("local-uploads-123456789012")  # BucketName: !Sub with the stack
    await bucket.put_object("images/cat.jpg", b"jpeg")
    await bucket.put_object("docs/cv.pdf", b"pdf")
    await sim.settle()
    [attempt] = assert_delivered(sim, "ThumbnailFunction")
    assert attempt.payload == {
        "source": "local-uploads-123456789012/images/cat.jpg",
        "thumbnail": "thumbnails/128/images/cat.jpg",  # Number parameter's Default, via !Ref
        "same_bucket": True,
    }
    [dropped] = sim.ledger.query(source="s3:", outcome=Outcome.DROPPED)
    assert "docs/cv.pdf" in json.dumps(dropped.event)


async def test_sqs_event_partial_failures_filters_and_redrive(start: StartTemplate) -> None:
    sim = await start("sqs-worker")
    orders = sim.queue("OrdersQueue")  # a logical id finds the queue it names
    dead = sim.queue("OrdersDeadLetterQueue")
    assert orders.name == named(sim, "queues", "OrdersQueue") != "OrdersQueue"
    orders.send_message(json.dumps({"type": "order", "total": 5}))
    orders.send_message(json.dumps({"type": "order", "total": -1}))
    orders.send_message(json.dumps({"type": "refund", "total": 3}))  # FilterCriteria drops it
    await sim.advance(seconds=1)  # MaximumBatchingWindowInSeconds
    [first] = assert_delivered(sim, "OrderWorkerFunction")
    assert len(first.event["Records"]) == 2
    await sim.advance(seconds=61)  # VisibilityTimeout: the failed one comes back
    await sim.advance(seconds=61)  # maxReceiveCount 2: to the dead-letter queue
    assert dead.snapshot()["visible"] == [json.dumps({"type": "order", "total": -1})]
    assert orders.counts().visible == 0
    assert len(sim.ledger.query("OrderWorkerFunction", outcome=Outcome.DROPPED)) == 1


async def test_dynamodb_event_bisects_and_sends_the_failure_to_its_queue(
    start: StartTemplate,
) -> None:
    sim = await start("dynamodb-stream")
    table = sim.table("local-orders")  # TableName: !Sub "${AWS::StackName}-orders"
    table.put_item({"pk": "o1", "sk": "v1", "status": "new"})
    table.put_item({"pk": "o2", "sk": "v1", "status": "new", "poison": True})
    await sim.settle()
    await sim.advance(seconds=120)  # retries (MaximumRetryAttempts: 1) after bisection
    audited = [change for event in sim.recorded("AuditFunction") for change in event["Records"]]
    assert audited, "the good record was audited"
    failures = sim.queue(named(sim, "queues", "StreamFailuresQueue")).snapshot()["visible"]
    [failure] = [json.loads(body) for body in failures]
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert sim.config.tables["local-orders"].global_indexes["by-status"].partition_key == "status"
    assert sim.config.tables["local-orders"].ttl == "expires"


async def test_schedule_event_fires_with_its_input_and_a_disabled_one_never(
    start: StartTemplate,
) -> None:
    sim = await start("schedule-rule")
    await sim.advance(hours=3)
    attempts = assert_delivered(sim, "ReportFunction", count=3)
    assert {a.payload["report_for"] for a in attempts} == {"staging"}
    assert {a.source for a in attempts} == {"schedule:local-hourly-report"}


async def test_schedule_v2_event_in_its_time_zone(start: StartTemplate) -> None:
    sim = await start("schedule-v2")
    await sim.advance(days=1)
    [attempt] = assert_delivered(sim, "ReminderFunction")
    # 08:00 in Paris on 1 January is 07:00 UTC; the Scheduler placeholder is filled.
    assert attempt.payload == {"kind": "reminder", "at": "2026-01-01T07:00:00Z"}


async def test_api_event_the_sam_init_hello_world(start: StartTemplate) -> None:
    sim = await start("api-rest")
    response = await sim.request("GET", "/hello")
    assert response.status == 200
    # SAM's implicit REST API has the stage Prod: the events say so.
    assert json.loads(response.body) == {"message": "hello world", "stage": "Prod"}
    response = await sim.request("DELETE", "/items/42")
    assert json.loads(response.body) == {"item": "42", "method": "DELETE", "stage": "Prod"}


async def test_http_api_events_with_both_payload_versions_and_a_default_route(
    start: StartTemplate,
) -> None:
    sim = await start("http-api")
    listed = json.loads((await sim.request("GET", "/todos")).body)
    assert listed == {"todos": [], "version": "2.0", "route": "GET /todos"}
    created = await sim.request("POST", "/todos", body=json.dumps({"title": "milk"}))
    assert created.status == 201
    assert json.loads(created.body) == {"created": "milk", "version": "1.0"}
    for path in ("/nothing/here", "/"):  # the $default route
        missing = await sim.request("GET", path)
        assert missing.status == 404 and json.loads(missing.body) == {"path": path}


async def test_sns_events_filtered_buffered_and_a_queue_subscription(
    start: StartTemplate,
) -> None:
    sim = await start("sns-fanout")
    topic = sim.topic("local-order-events")
    for kind in ("placed", "cancelled"):
        topic.publish(f"order {kind}", attributes={"kind": {"DataType": "String",
                                                             "StringValue": kind}})  # fmt: skip
    await sim.settle()
    [notified] = assert_delivered(sim, "NotifyFunction")  # FilterPolicy: kind placed
    assert notified.payload == {"notified": "order placed", "kind": "placed"}
    shipped = [m for a in assert_delivered(sim, "ShippingFunction") for m in a.payload]
    assert sorted(shipped) == ["order cancelled", "order placed"]  # SqsSubscription: true
    audit = sim.queue(named(sim, "queues", "AuditQueue")).snapshot()["visible"]
    assert sorted(audit) == ["order cancelled", "order placed"]  # RawMessageDelivery


async def test_eventbridge_rule_and_cloudwatch_event(start: StartTemplate) -> None:
    sim = await start("eventbridge-rules")
    placed = {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": {"id": 7}}
    sim.bus("local-orders").put_events([placed])
    sim.bus("default").put_events([{"Source": "shop.web", "DetailType": "Visit", "Detail": {}}])
    await sim.settle()
    [fulfilled] = assert_delivered(sim, "FulfilFunction")
    assert fulfilled.payload == {"fulfilled": 7}  # InputTransformer
    [audited] = assert_delivered(sim, "AuditFunction")  # the default bus only
    assert audited.payload == {"source": "shop.web", "type": "Visit"}


async def test_plain_cloudformation_event_source_mappings(start: StartTemplate) -> None:
    sim = await start("cloudformation-mappings")
    worker = named(sim, "functions", "WorkerFunction")
    assert worker == "local-worker"  # FunctionName: !Sub "${AWS::StackName}-worker"
    result = await sim.invoke(worker, {})
    assert result.payload == {"table": named(sim, "tables", "EventsTable"),
                              "function": "local-worker"}  # fmt: skip
    for number in range(7):
        sim.queue("jobs").send_message(str(number))
    await sim.settle()
    batches = [a.event for a in sim.ledger.query(worker, source="sqs:jobs")]
    assert [len(b["Records"]) for b in batches] == [5, 2]  # BatchSize: !Ref BatchSize
    sim.table(named(sim, "tables", "EventsTable")).put_item({"id": 1})
    await sim.settle()
    [stream] = sim.ledger.query(worker, source="dynamodb:")
    assert stream.payload == {"records": 1, "sources": ["aws:dynamodb"]}
    assert sim.config.functions[worker].retries == 0  # AWS::Lambda::EventInvokeConfig


@pytest.mark.parametrize(
    ("parameters", "expected", "functions"),
    [
        ({}, {"STAGE": "dev", "LOG_LEVEL": "DEBUG", "ARCHIVE_BUCKET": None, "memory": "128"},
         ["ApiFunction", "DebugFunction"]),
        ({"Stage": "prod", "EnableArchive": "true"},
         {"STAGE": "prod", "LOG_LEVEL": "WARNING", "ARCHIVE_BUCKET": "local-archivebucket-",
          "memory": "1024"}, ["ApiFunction"]),
        ({"Stage": "staging"},
         {"STAGE": "staging", "LOG_LEVEL": "DEBUG", "ARCHIVE_BUCKET": None, "memory": "128"},
         ["ApiFunction"]),
    ],
)  # fmt: skip
async def test_conditions_choose_resources_and_values(
    project: Project, eventsim_factory: object, parameters: dict[str, str],
    expected: dict[str, object], functions: list[str],
) -> None:  # fmt: skip
    config = load_config(project("intrinsics-conditions") / "template.yaml", parameters)
    assert list(config.functions) == functions
    assert bool(config.buckets) == (parameters.get("EnableArchive") == "true")
    sim = await eventsim_factory(config)  # type: ignore[operator]
    payload = (await sim.invoke("ApiFunction", {})).payload
    bucket = payload.pop("ARCHIVE_BUCKET")
    archive = expected.pop("ARCHIVE_BUCKET")
    assert payload == expected
    assert (bucket is None) if archive is None else bucket.startswith(str(archive))


async def test_mappings_lists_substitutions_and_imports_through_an_overlay(
    start: StartTemplate,
) -> None:
    sim = await start("intrinsics-mappings", file="eventsim.yaml")
    assert sim.config.functions["SettingsFunction"].timeout == 30  # FindInMap, Stage=prod
    assert sim.config.functions["SettingsFunction"].isolation == "thread"  # the overlay's
    payload = (await sim.invoke("SettingsFunction", {})).payload
    assert payload == {
        "SUFFIX": "live",
        "FIRST_SUBNET": "subnet-a",
        "SUBNETS": "subnet-a;subnet-b;subnet-c",
        "HOST": "example.com",
        "SHARED_TABLE": "orders-v2",
        "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-jobs-live",
        "QUEUE_ARN": "arn:aws:sqs:eu-west-1:123456789012:shop-jobs-live",
        "PREFIXED": "shop-app-eu-west-1-123456789012",
        "ENCODED": base64.b64encode(b"hello").decode(),
        "LITERAL": "${NotAVariable}",
        "DOMAIN": "aws.amazonaws.com",
        "ZONE": "eu-west-1b",
    }
    sim.queue("shop-jobs-live").send_message("the queue the environment names exists")
    assert sim.queue("shop-jobs-live").counts().visible == 1


async def test_globals_and_asynchronous_destinations(start: StartTemplate) -> None:
    sim = await start("globals-destinations")
    charge = sim.config.functions["ChargeFunction"]
    assert (charge.timeout, charge.memory, charge.reserved_concurrency) == (5, 256, 2)
    await sim.invoke("ChargeFunction", {"amount": 12}, invocation_type="Event")
    await sim.settle()
    [receipt] = assert_delivered(sim, "ReceiptFunction")  # OnSuccess: Type Lambda
    assert receipt.payload == {"receipt_for": 12, "condition": "Success"}
    [charged] = assert_delivered(sim, "ChargeFunction")
    assert charged.payload["log_level"] == "DEBUG"  # the function's variable over Globals'
    assert charged.payload["service"] == "payments"  # Globals' merged in
    await sim.invoke("ChargeFunction", {"amount": 0}, invocation_type="Event")
    await sim.settle()
    await sim.advance(minutes=2)  # MaximumRetryAttempts: 1
    failures = named(sim, "queues", "ChargeFunctionEventInvokeConfigOnFailureQueue")
    [record] = [json.loads(b) for b in sim.queue(failures).snapshot()["visible"]]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2


async def test_order_pipeline_across_three_functions(start: StartTemplate) -> None:
    sim = await start("order-pipeline")
    response = await sim.request("POST", "/orders", body=json.dumps({"id": "o1", "total": 3}))
    assert response.status == 201, response.body
    await sim.settle()
    await sim.wait_for("ShipOrderFunction")
    [shipped] = assert_delivered(sim, "ShipOrderFunction")
    assert shipped.payload == ["o1"]
    assert sim.table(named(sim, "tables", "OrdersTable")).get_item({"id": "o1"}) == {
        "id": "o1",
        "total": 3,
    }


async def test_file_processing_from_bucket_to_queue_to_simple_table(
    start: StartTemplate, project: Project
) -> None:
    sim = await start("file-processing")
    inbox = sim.bucket(named(sim, "buckets", "InboxBucket"))
    assert inbox.root.name == "inbox"  # Metadata: {eventsim: {path: inbox}}
    await inbox.put_object("reports/q1.csv", b"a,b\n1,2\n")
    await sim.settle()
    await sim.wait_for("ProcessFunction")
    await sim.settle()
    table = sim.table(named(sim, "tables", "ResultsTable"))
    assert table.get_item({"key": "reports/q1.csv"}) == {
        "key": "reports/q1.csv",
        "size": 8,
        "status": "processed",
    }


async def test_scheduler_schedule_scheduled_rule_and_pattern_rule_targets(
    start: StartTemplate,
) -> None:
    sim = await start("scheduler-resources")
    await sim.advance(hours=3)
    runs = [a.payload for a in assert_delivered(sim, "CleanupFunction", count=19)]
    assert runs.count({"job": "sweep"}) == 18  # rate(10 minutes) for 3 hours
    [nightly] = [run for run in runs if run.get("job") == "cleanup"]  # 02:30 UTC
    assert nightly["run"] != "<aws.scheduler.execution-id>"
    sim.bus().put_events([{"Source": "accounts", "DetailType": "SignedUp", "Detail": {"id": 1}}])
    await sim.settle()
    assert sim.recorded("CleanupFunction")[-1] == {"id": 1}  # InputPath: $.detail
    [queued] = sim.queue(named(sim, "queues", "AuditQueue")).snapshot()["visible"]
    assert json.loads(queued)["detail"] == {"id": 1}


async def test_unsupported_features_are_listed_and_the_rest_runs(start: StartTemplate) -> None:
    sim = await start("unsupported-features")
    assert list(sim.config.functions) == ["ApiFunction", "NodeFunction", "InlineFunction"]
    assert (await sim.invoke("InlineFunction", {})).payload == "inline"  # index.py, as Lambda
    response = await sim.request("GET", "/secure")  # AWS_IAM is not checked
    assert json.loads(response.body) == {"secure": True}
    result = await sim.invoke("NodeFunction", {})
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    listed = {issue.path.rsplit(".", 1)[-1] for issue in sim.config.not_honoured}
    assert {"Tracing", "SharedLayer", "Layers", "Architectures", "VpcConfig",
            "AutoPublishAlias", "ProvisionedConcurrencyConfig", "Auth", "Type", "Runtime",
            "Workflow"} <= listed  # fmt: skip


async def test_json_template_with_bucket_notification_configurations(
    start: StartTemplate,
) -> None:
    sim = await start("bucket-notifications-json", file="template.json")
    bucket = sim.bucket("local-reports")
    await bucket.put_object("reports/june.txt", b"june")
    await bucket.put_object("other/x.gone", b"x")
    await sim.settle()
    await bucket.delete_object("other/x.gone")
    await sim.settle()
    payloads = [a.payload for a in assert_delivered(sim, "ReportsFunction", count=2)]
    assert payloads == [
        {"event": "ObjectCreated:Put", "key": "reports/june.txt"},
        {"event": "ObjectRemoved:Delete", "key": "other/x.gone"},
    ]


async def test_what_is_not_honoured_is_logged_once_at_start(start: StartTemplate) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        sim = await start("unsupported-features")
    noticed = [entry for entry in logs if entry["event"] == "config.not_honoured"]
    assert [entry["key"] for entry in noticed] == [n.path for n in sim.config.not_honoured]
    assert noticed and all(entry["at"].startswith(str(sim.config.source)) for entry in noticed)
