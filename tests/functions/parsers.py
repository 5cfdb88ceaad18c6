"""Handlers that read their events with AWS's own parsers (aws-lambda-powertools)."""

import json

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SqsModel


@event_parser(model=SqsModel)
def sqs_bodies(event: SqsModel, context):
    return [json.loads(record.body) for record in event.Records]
