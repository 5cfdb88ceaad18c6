"""The DynamoDB streams demo: reports stock changes of the `stock` table.

Try it while `eventsim up` runs (the table is a SQLite file; any program can write it):

    sqlite3 .eventsim/tables/stock.sqlite3 \
      "INSERT INTO items (item) VALUES ('{\"sku\":{\"S\":\"apple\"},\"count\":{\"N\":\"5\"}}')"
"""

from decimal import Decimal


def count(image):
    """The item's count: DynamoDB numbers are exact decimals (2.50 stays 2.50)."""
    return Decimal(image["count"]["N"]) if image and "count" in image else None


def handler(event, context):
    for record in event["Records"]:
        change = record["dynamodb"]
        sku = change["Keys"]["sku"]["S"]
        before, after = count(change.get("OldImage")), count(change.get("NewImage"))
        print(f"stock {record['eventName']} {sku}: {before} -> {after}")
        if after is not None and after < 0:
            raise ValueError(f"negative stock for {sku}")
