"""Lambda handlers the integration tests run through awslambdaric, written as users write them."""
import base64
import json
import os
import time


def echo(event, context):
    """Returns the event it got, and facts from the context object."""
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-handler": "echo"},
        "body": json.dumps({
            "event": event,
            "requestId": context.aws_request_id,
            "functionName": context.function_name,
            "remainingMs": context.get_remaining_time_in_millis(),
            "pid": os.getpid(),
        }),
    }


def users(event, context):
    user_id = (event.get("pathParameters") or {}).get("userId")
    if user_id == "7":
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps({"id": "7", "name": "Ada"})}
    return {"statusCode": 404, "headers": {"content-type": "application/json", "x-missing": user_id},
            "body": json.dumps({"message": "no user %s" % user_id})}


def boom(event, context):
    raise Exception("boom")


def crash(event, context):
    os._exit(3)


def slow(event, context):
    time.sleep(float((event.get("queryStringParameters") or {}).get("s", "0")))
    return {"statusCode": 200, "body": "slept %d" % os.getpid()}


def reverse(event, context):
    """Binary round trip: the body reversed, base64 both ways."""
    data = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else (event.get("body") or "").encode()
    return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(data[::-1]).decode(), "isBase64Encoded": True}


def bare(event, context):
    """A 2.0 handler returning a plain value: API Gateway infers the response."""
    return {"hello": "world", "n": 1}


def malformed(event, context):
    return {"statusCode": "two hundred", "body": "x"}


def cookies(event, context):
    return {"statusCode": 201, "cookies": ["a=1", "b=2; Path=/; HttpOnly"], "headers": {"x-one": "1"}, "body": "made"}


def multi(event, context):
    """1.0: multiValueHeaders merged with headers."""
    return {"statusCode": 200, "headers": {"x-single": "s"},
            "multiValueHeaders": {"x-multi": ["a", "b"]}, "body": "multi"}


def _record_call(event):
    """Appends the event to $AUTH_LOG, so a test can count invocations."""
    with open(os.environ["AUTH_LOG"], "a") as f:
        f.write(json.dumps(event) + "\n")


def simple_authorizer(event, context):
    """HTTP API payload 2.0 authorizer with simple responses."""
    _record_call(event)
    token = event["headers"].get("authorization", "")
    if token == "raise":
        raise Exception("Unauthorized")
    if token == "broken":
        raise Exception("something else")
    return {"isAuthorized": token == "allow", "context": {"tier": "premium", "n": 7}}


def policy_authorizer(event, context):
    """TOKEN or REQUEST authorizer answering with an IAM policy."""
    _record_call(event)
    if event.get("type") == "TOKEN":
        token = event["authorizationToken"]
    else:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        token = headers.get("authorization", "")
    if token == "raise":
        raise Exception("Unauthorized")
    arn = event.get("methodArn") or event.get("routeArn")
    return {
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow" if token.startswith("allow") else "Deny",
             "Resource": arn}]},
        "context": {"tier": "premium", "n": 7},
        "usageIdentifierKey": "acme-key-0123456789abcdef0123",
    }


def greeting(event, context):
    return {"statusCode": 200, "body": os.environ.get("GREETING", "") + " " + str(os.getpid())}
