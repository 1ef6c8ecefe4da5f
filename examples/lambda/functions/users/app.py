"""A plain Lambda handler, unchanged from what runs on AWS behind API Gateway."""
import json

USERS = {"7": {"id": "7", "name": "Ada"}}


def handler(event, context):
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
    else:
        method = event["httpMethod"]
    user_id = (event.get("pathParameters") or {}).get("userId")
    if method == "GET" and user_id in USERS:
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(USERS[user_id]),
        }
    return {
        "statusCode": 404,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": f"no user {user_id}"}),
    }
