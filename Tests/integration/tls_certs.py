"""Test certificates made with the openssl CLI at test time (nothing here is committed).

    certs = CertMaker(tmp_path / "certs")
    ca = certs.ca("test-ca", "/CN=Turnpike Test CA")
    a = certs.server("a", ca, "/CN=a.test.local/O=Turnpike Tests A", ["a.test.local"])
    client = certs.client("client", client_ca, "/CN=client-a/O=Turnpike Tests")

Keys are P-256 (fast to make). A server or client `.pem` holds the chain: the leaf, then
its CA, as Turnpike expects for `certificate.chain`.
"""

import shutil
import subprocess
from pathlib import Path

DAYS = "2"

SERVER_EXT = """basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName={sans}
"""

CLIENT_EXT = """basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
"""


def _openssl(*args, cwd=None):
    out = subprocess.run(["openssl", *args], capture_output=True, timeout=30, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), out.stderr.decode(errors="replace")))
    return out.stdout


class Cert:
    """A certificate (`pem`: the chain, leaf first; `leaf`: the leaf alone) and its key."""

    def __init__(self, name, pem, key, leaf, subject):
        self.name = name
        self.pem = pem
        self.key = key
        self.leaf = leaf
        self.subject = subject

    def copy_to(self, folder, stem=None):
        """Copies chain and key into `folder` (as STEM.pem / STEM.key); returns the copy."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = stem or self.name
        pem, key = folder / (stem + ".pem"), folder / (stem + ".key")
        shutil.copyfile(self.pem, pem)
        shutil.copyfile(self.key, key)
        return Cert(stem, pem, key, self.leaf, self.subject)

    def chain_config(self):
        return {"chain": str(self.pem), "key": str(self.key)}


class CertMaker:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.serial = 1000

    def _key(self, name):
        key = self.folder / (name + ".key")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
        key.chmod(0o600)
        return key

    def ca(self, name, subject):
        key = self._key(name)
        pem = self.folder / (name + ".pem")
        _openssl("req", "-x509", "-new", "-key", str(key), "-sha256", "-days", DAYS, "-subj", subject,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(pem))
        return Cert(name, pem, key, pem, subject)

    def _leaf(self, name, ca, subject, ext):
        key = self._key(name)
        csr = self.folder / (name + ".csr")
        extfile = self.folder / (name + ".ext")
        leaf = self.folder / (name + ".crt")
        _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
        extfile.write_text(ext)
        self.serial += 1
        _openssl("x509", "-req", "-sha256", "-days", DAYS, "-in", str(csr), "-CA", str(ca.leaf),
                 "-CAkey", str(ca.key), "-set_serial", str(self.serial), "-extfile", str(extfile),
                 "-out", str(leaf))
        pem = self.folder / (name + ".pem")
        pem.write_bytes(leaf.read_bytes() + ca.leaf.read_bytes())
        return Cert(name, pem, key, leaf, subject)

    def server(self, name, ca, subject, dns_names=(), ips=()):
        sans = ",".join(["DNS:" + d for d in dns_names] + ["IP:" + i for i in ips])
        return self._leaf(name, ca, subject, SERVER_EXT.format(sans=sans))

    def client(self, name, ca, subject):
        return self._leaf(name, ca, subject, CLIENT_EXT)


    def ocsp_staple(self, ca, cert, name):
        """A DER OCSP response, signed by `ca`, saying `cert` is good (what a CA's responder
        gives and `openssl ocsp -respout` saves for stapling)."""
        serial = _openssl("x509", "-noout", "-serial", "-in", str(cert.leaf)).decode().strip().split("=")[1]
        subject = _openssl("x509", "-noout", "-subject", "-nameopt", "compat", "-in", str(cert.leaf)).decode()
        subject = subject.strip().removeprefix("subject=").strip()
        index = self.folder / (name + ".index.txt")
        index.write_text("V\t301231235959Z\t\t%s\tunknown\t%s\n" % (serial, subject))
        req = self.folder / (name + ".ocsp-req.der")
        resp = self.folder / (name + ".ocsp.der")
        _openssl("ocsp", "-issuer", str(ca.leaf), "-cert", str(cert.leaf), "-no_nonce", "-reqout", str(req))
        _openssl("ocsp", "-index", str(index), "-rsigner", str(ca.leaf), "-rkey", str(ca.key), "-CA", str(ca.leaf),
                 "-reqin", str(req), "-respout", str(resp), "-ndays", "1")
        return resp


def subject_of(pem_bytes):
    """The subject of the first certificate in PEM bytes, as `openssl x509 -subject` prints it."""
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                         input=pem_bytes, capture_output=True, timeout=10)
    return out.stdout.decode().strip().removeprefix("subject=")
