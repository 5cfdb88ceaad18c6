import os


def handler(event, context):
    if "Records" not in event:
        return {"table": os.environ["TABLE"], "function": context.function_name}
    sources = {record["eventSource"] for record in event["Records"]}
    return {"records": len(event["Records"]), "sources": sorted(sources)}
