"""Pure builders of the events AWS hands to Lambda handlers, and of what AWS makes of results.

No I/O and no clock reads: times, ids, region and account are arguments, so every builder is
deterministic and testable. Every source in eventsim builds its events here.

=================  ==========================================================================
module             builds
=================  ==========================================================================
``s3``             S3 notification records (eventVersion 2.1), the s3:TestEvent
``dynamodb_json``  the DynamoDB JSON (AttributeValue) codec: ``marshal`` / ``unmarshal``
``dynamodb``       DynamoDB stream records (eventVersion 1.1)
``sqs``            SQS records, message attributes, the MD5 digests SQS computes
``schedule``       EventBridge "Scheduled Event" and EventBridge Scheduler payloads
``apigateway``     API Gateway REST (v1) and HTTP API (v2) events; handler result -> HTTP response
``destinations``   async invocation records, DLQ message attributes, stream on-failure records
``ids``            the random ids AWS puts in events, drawn from a seeded ``random.Random``
=================  ==========================================================================
"""
