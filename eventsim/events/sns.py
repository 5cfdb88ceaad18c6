"""What SNS delivers: the Lambda event of a notification, the JSON envelope a queue gets, and
the ARNs and URLs inside them.

Message attributes travel in two forms: the API form a publisher uses (``{"DataType":
"String", "StringValue": "1"}``, ``BinaryValue`` as bytes) and the form SNS writes into what
it delivers (``{"Type": "String", "Value": "1"}``, binary as base64). The builders take the
API form.

Example::

    record(message_id=mid, topic_arn=topic_arn("us-east-1", "123456789012", "orders"),
           subscription_arn=arn, message='{"id": 1}', subject=None, attributes={},
           timestamp=now, region="us-east-1", signature=sig)
    event([record])                                    # {"Records": [record]}
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .common import iso_ms

#: Every notification SNS delivers today is signed with version 1 (SHA1withRSA).
SIGNATURE_VERSION = "1"


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def subscription_arn(topic_arn: str, subscription_id: str) -> str:
    """``<topic arn>:<uuid>``: a subscription's ARN."""
    return f"{topic_arn}:{subscription_id}"


def signing_cert_url(region: str) -> str:
    return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-eventsim.pem"


def unsubscribe_url(region: str, subscription_arn: str) -> str:
    return (
        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    )


def delivered_attributes(
    attributes: Mapping[str, Mapping[str, Any]], *, for_lambda: bool = False
) -> dict[str, Any]:
    """Message attributes as SNS writes them into a notification: ``Type`` and ``Value``
    (a binary value in base64). ``for_lambda``: ``Number`` and ``String.Array`` attributes
    arrive with the type ``String``."""
    delivered = {}
    for name, attribute in attributes.items():
        data_type = str(attribute["DataType"])
        if for_lambda and (data_type == "String.Array" or data_type.startswith("Number")):
            data_type = "String"
        if "BinaryValue" in attribute and attribute["BinaryValue"] is not None:
            raw = attribute["BinaryValue"]
            value = base64.b64encode(raw if isinstance(raw, bytes) else str(raw).encode())
            delivered[name] = {"Type": data_type, "Value": value.decode()}
        else:
            delivered[name] = {"Type": data_type, "Value": str(attribute["StringValue"])}
    return delivered


def record(
    *,
    message_id: str,
    topic_arn: str,
    subscription_arn: str,
    message: str,
    subject: str | None,
    attributes: Mapping[str, Mapping[str, Any]],
    timestamp: datetime,
    region: str,
    signature: str,
) -> dict[str, Any]:
    """One record of the event a subscribed function gets (``EventSource: aws:sns``)."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": iso_ms(timestamp),
            "SignatureVersion": SIGNATURE_VERSION,
            "Signature": signature,
            "SigningCertUrl": signing_cert_url(region),
            "UnsubscribeUrl": unsubscribe_url(region, subscription_arn),
            "MessageAttributes": delivered_attributes(attributes, for_lambda=True),
        },
    }


def event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda receives: SNS invokes once per message, so one record."""
    return {"Records": records}


def envelope(
    *,
    message_id: str,
    topic_arn: str,
    subscription_arn: str,
    message: str,
    subject: str | None,
    attributes: Mapping[str, Mapping[str, Any]],
    timestamp: datetime,
    region: str,
    signature: str,
    sequence_number: str | None = None,
) -> dict[str, Any]:
    """The JSON document a queue subscription gets as its message body (without raw message
    delivery): ``Subject`` only when given, ``MessageAttributes`` only when there are some,
    ``SequenceNumber`` from a FIFO topic; note ``SigningCertURL`` and ``UnsubscribeURL``,
    spelt unlike the Lambda record's."""
    body: dict[str, Any] = {"Type": "Notification", "MessageId": message_id}
    if sequence_number is not None:
        body["SequenceNumber"] = sequence_number
    body["TopicArn"] = topic_arn
    if subject is not None:
        body["Subject"] = subject
    body.update(
        {
            "Message": message,
            "Timestamp": iso_ms(timestamp),
            "SignatureVersion": SIGNATURE_VERSION,
            "Signature": signature,
            "SigningCertURL": signing_cert_url(region),
            "UnsubscribeURL": unsubscribe_url(region, subscription_arn),
        }
    )
    if attributes:
        body["MessageAttributes"] = delivered_attributes(attributes)
    return body
