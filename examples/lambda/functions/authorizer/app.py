"""A TOKEN authorizer, unchanged from what runs on AWS in front of a REST API."""


def handler(event, context):
    token = event["authorizationToken"]
    if token == "allow":
        effect = "Allow"
    elif token == "deny":
        effect = "Deny"
    else:
        raise Exception("Unauthorized")  # API Gateway answers 401
    return {
        "principalId": "user-7",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"tier": "premium"},
    }
