#!/bin/sh
# Makes development certificates for examples/tls.yaml in examples/certs/ (ignored by git):
#   dev-ca.pem / dev-ca.key                       a development CA that signs the server certificates
#   api.localhost.pem / .key                      for the api.localhost domain name
#   wildcard.apps.localhost.pem / .key            for *.apps.localhost (and partners.apps.localhost)
#   default.pem / .key                            the listener's certificate (clients without SNI)
#   clients-ca.pem / .key                         the CA client certificates must chain to (mutual TLS)
#   client.pem / .key                             a client certificate signed by clients-ca, for curl --cert
# Each .pem holds the leaf certificate followed by the CA (a chain, as Turnpike expects).
# For trying Turnpike locally only: never use these in production. Run again to replace them.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/certs"
DAYS=825
mkdir -p "$OUT"
umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ca NAME SUBJECT: a self-signed CA certificate and key.
ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" -subj "$2" \
        -keyout "$OUT/$1.key" -out "$OUT/$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# leaf NAME CA SUBJECT EXTENSIONS: a key and a certificate signed by CA; NAME.pem is the chain (leaf, then CA).
leaf() {
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "$3" -keyout "$OUT/$1.key" -out "$TMP/$1.csr" 2>/dev/null
    printf '%s\n' "$4" > "$TMP/$1.ext"
    openssl x509 -req -sha256 -days "$DAYS" -in "$TMP/$1.csr" -CA "$OUT/$2.pem" -CAkey "$OUT/$2.key" \
        -CAcreateserial -CAserial "$TMP/$2.srl" -extfile "$TMP/$1.ext" -out "$TMP/$1.crt" 2>/dev/null
    cat "$TMP/$1.crt" "$OUT/$2.pem" > "$OUT/$1.pem"
}

SERVER="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"

ca dev-ca "/CN=Turnpike development CA"
leaf api.localhost dev-ca "/CN=api.localhost" "$SERVER
subjectAltName=DNS:api.localhost"
leaf wildcard.apps.localhost dev-ca "/CN=*.apps.localhost" "$SERVER
subjectAltName=DNS:*.apps.localhost"
leaf default dev-ca "/CN=localhost" "$SERVER
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
ca clients-ca "/CN=Turnpike development clients CA"
leaf client clients-ca "/CN=dev-client/O=Turnpike examples" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
chmod 644 "$OUT"/*.pem

echo "Made in $OUT:"
for name in dev-ca api.localhost wildcard.apps.localhost default clients-ca client; do
    subject=$(openssl x509 -in "$OUT/$name.pem" -noout -subject | sed 's/^subject=//')
    names=$(openssl x509 -in "$OUT/$name.pem" -noout -ext subjectAltName 2>/dev/null | sed -n '2s/^ *//p')
    printf '  %-34s %s%s\n' "$name.pem/.key" "$subject" "${names:+  ($names)}"
done
echo "Trust dev-ca.pem in clients (curl --cacert $OUT/dev-ca.pem); use client.pem/client.key for mutual TLS."
