"""The master's TLS certificates: self-signed, made the first time the master's configuration is
loaded (make master), for the address each listens on: the web UI's (in tls_dir), and the worker
port's (in tls_dir/workers), which every worker pins: it trusts that certificate and no other.
Operators with a certificate of their own put it (and its key) in the same two files; a reverse
proxy is the other way for the web UI (docs/farm.md)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..files import write_atomic

CERT, KEY = "cert.pem", "key.pem"
VALID_DAYS = 825  # what browsers accept for a server certificate


def _usable(cert: Path, key: Path, host: str) -> bool:
    """The pair belongs together (a crash between the two writes would part them) and names
    ``host`` (www_host may have changed since it was made)."""
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False  # one made before it was a leaf: anything it signed would be trusted too
    except (ValueError, TypeError, x509.ExtensionNotFound):
        return False
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(serialization.Encoding.DER, public) != \
            private.public_key().public_bytes(serialization.Encoding.DER, public):
        return False
    try:
        return ipaddress.ip_address(host) in names.get_values_for_type(x509.IPAddress)
    except ValueError:
        return host in names.get_values_for_type(x509.DNSName)


def ensure_certificate(where: Path, host: str) -> tuple[Path, Path]:
    """(certificate, key) in ``where``: the ones there, or a new self-signed pair for ``host``."""
    cert, key = where / CERT, where / KEY
    if cert.is_file() and key.is_file() and _usable(cert, key, host):
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    names = {x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))}
    try:
        names.add(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.add(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "venvdeb build farm")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
                   .add_extension(x509.SubjectAlternativeName(sorted(names, key=str)), critical=False)
                   # A leaf, for a server: trusted as itself (workers and browsers pin it), it can
                   # vouch for no other certificate.
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_agreement=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_cert_sign=False,
                                                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .sign(private, hashes.SHA256()))
    write_atomic(key, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()), mode=0o600)
    write_atomic(cert, certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


WORKERS = "workers"  # below tls_dir: the worker port's pair, apart from the web UI's (another host)


def _escape(value: str) -> str:
    """A value in a Twisted endpoint description, where ':', '=' and '\\' separate."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def worker_port(port: int, host: str, tls_dir: Path) -> str:
    """The master's worker port: PB over TLS only, with the worker port's certificate."""
    cert, key = ensure_certificate(tls_dir / WORKERS, host)
    return f"ssl:{port}:interface={_escape(host)}:privateKey={_escape(str(key))}:certKey={_escape(str(cert))}"


def worker_connection(host: str, port: int, trust: Path) -> str:
    """How a worker connects: TLS to ``host``, trusting only the certificates in the directory
    ``trust`` (the master's, copied there), its name checked against the certificate's."""
    return f"tls:host={_escape(host)}:port={port}:trustRoots={_escape(str(trust))}"
