print("module-level print during INIT")


def handler(event, context):
    return "ok"
