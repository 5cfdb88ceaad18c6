"""A handler written the way aws-lambda-powertools users write them."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="orders")


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    logger.info("processing", extra={"order": event.get("order")})
    return {"cold_start": logger.get_current_keys().get("cold_start")}
