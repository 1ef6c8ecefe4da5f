"""A small Lambda Invoke API (what `sam local start-lambda` and the Lambda RIE serve) for
the tests: runs the handlers in lambda_functions in-process and checks SigV4 signatures."""

import hashlib
import hmac
import json
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "lambda_functions"))
import handlers  # noqa: E402


class Context:
    def __init__(self, name, request_id):
        self.function_name = name
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self):
        return 3000


def expected_signature(secret, method, path, headers, signed, body, amz_date, region):
    canonical_headers = "".join("%s:%s\n" % (h, " ".join(headers[h].split())) for h in signed)
    canonical = "\n".join([method, path, "", canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/lambda/aws4_request" % (amz_date[:8], region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "lambda", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class InvokeAPI:
    def __init__(self, secret=None, region="us-east-1"):
        self.secret = secret
        self.region = region
        self.requests = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, extra=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                api.requests.append({"path": self.path, "headers": headers})
                if api.secret is not None and not api.signature_ok(self.path, headers, body):
                    return self.reply(403, {"message": "The request signature we calculated does not match"})
                parts = self.path.split("/")
                if len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" or parts[4] != "invocations":
                    return self.reply(404, {"message": "unknown path"})
                fn = getattr(handlers, parts[3], None)
                if fn is None:
                    return self.reply(404, {"Type": "User", "message": "Function not found: " + parts[3]})
                try:
                    result = fn(json.loads(body), Context(parts[3], "remote-1"))
                except Exception as e:  # what Lambda reports as an unhandled function error
                    return self.reply(200, {"errorMessage": str(e), "errorType": type(e).__name__,
                                            "stackTrace": traceback.format_tb(e.__traceback__)},
                                      {"X-Amz-Function-Error": "Unhandled"})
                self.reply(200, result)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def signature_ok(self, path, headers, body):
        auth = headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return False
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        signed = fields["SignedHeaders"].split(";")
        want = expected_signature(self.secret, "POST", path, headers, signed, body, headers["x-amz-date"], self.region)
        return hmac.compare_digest(want, fields["Signature"])

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
