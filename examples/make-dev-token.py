#!/usr/bin/env python3
"""Makes a development signing key for examples/access-control.yaml and prints a token.

    python3 examples/make-dev-token.py [--scope "orders/read orders/write"] [--sub alice]

Writes examples/dev-jwks.json (the public key, which the example's authorizer reads) and
keeps the private key in examples/dev-signing-key.pem (both ignored by git; they are for
trying the gateway locally, never for production). Prints a JWT signed with that key whose
iss/aud match the example's authorizer.
"""
import argparse
import base64
import json
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = os.path.join(HERE, "dev-signing-key.pem")
JWKS = os.path.join(HERE, "dev-jwks.json")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scope", default="orders/read orders/write")
    parser.add_argument("--sub", default="alice")
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args()
    if os.path.exists(KEY):
        with open(KEY, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(KEY, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    with open(JWKS, "w") as f:
        json.dump({"keys": [{"kty": "RSA", "kid": "dev-1", "alg": "RS256", "use": "sig",
                             "n": b64(n), "e": b64(numbers.e.to_bytes(3, "big"))}]}, f, indent=2)
    now = int(time.time())
    header = b64(json.dumps({"alg": "RS256", "kid": "dev-1", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"iss": "https://idp.example.com/realms/main", "aud": "orders-app",
                             "sub": args.sub, "scope": args.scope, "iat": now,
                             "exp": now + 60 * args.minutes}).encode())
    signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    print(f"{header}.{claims}.{b64(signature)}")


if __name__ == "__main__":
    main()
