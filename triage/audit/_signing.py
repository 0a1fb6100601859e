"""Ed25519 signatures over the audit chain, and signed checkpoints kept outside the database.

The private key never enters the database: it is a PEM file under ``var/keys/`` (mode 0600,
created on first use) or the file named by ``TRIAGE_SIGNING_KEY``. Every appended record is
signed (the signature covers its position and hash, and so the whole chain before it), and
after every append a signed checkpoint ``{seq, head, time}`` is appended to
``var/audit/checkpoints.jsonl``. Someone who can write to the database but does not hold the
key cannot produce a record that verifies, nor make the chain stop extending a checkpoint.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import TriageError

__all__ = [
    "Checkpoint",
    "checkpoint_log",
    "export_public_key",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "read_checkpoints",
    "record_message",
    "secure_dir",
    "secure_file",
    "secure_tree",
    "sign",
    "signature_ok",
    "signing_key_path",
    "write_checkpoint",
]

_KEY_NAME = "audit_ed25519.pem"
_PUB_NAME = "audit_ed25519.pub.pem"


def secure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700; return it."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    return path


def secure_file(path: Path) -> None:
    """Make an existing file 0600 (owner read and write only)."""
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def secure_tree(root: Path | None = None) -> None:
    """Make ``root`` (default ``var/``) and every folder under it 0700, every file 0600.

    ``var/`` holds the registry, the keys, the users file, the checkpoint log and the
    simulated history with names: none of it is for other local users to read.
    """
    top = root if root is not None else _var()
    if not top.exists():
        return
    secure_dir(top)
    for path in top.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            secure_dir(path)
        else:
            secure_file(path)


def _var() -> Path:
    from triage.config import var_dir

    return var_dir()


def signing_key_path() -> Path:
    """Return where the private key lives: ``TRIAGE_SIGNING_KEY`` or ``var/keys/audit_ed25519.pem``."""
    given = os.environ.get("TRIAGE_SIGNING_KEY")
    return Path(given) if given else _var() / "keys" / _KEY_NAME


def _serialization() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization


def load_signing_key(*, create: bool = True) -> Any:
    """Return the Ed25519 private key, creating ``var/keys/audit_ed25519.pem`` if allowed.

    Raises ``TriageError`` when ``TRIAGE_SIGNING_KEY`` names a missing or unreadable file, or
    when the key is not an Ed25519 key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ser = _serialization()
    path = signing_key_path()
    if not path.exists():
        if os.environ.get("TRIAGE_SIGNING_KEY"):
            raise TriageError(f"TRIAGE_SIGNING_KEY names {path}, which does not exist.")
        if not create:
            raise TriageError(f"no audit signing key at {path}.")
        secure_dir(_var())
        secure_dir(path.parent)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        pub = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
        (path.parent / _PUB_NAME).write_bytes(pub)
        return key
    try:
        key = ser.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise TriageError(f"{path}: cannot read the audit signing key ({exc}).") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TriageError(f"{path}: the audit signing key must be an Ed25519 key.")
    secure_file(path)
    return key


def load_public_key(path: str | Path | None = None) -> Any | None:
    """Return the public key to verify with: ``path``, else the signing key's, else None."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    ser = _serialization()
    if path is not None:
        try:
            key = ser.load_pem_public_key(Path(path).read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise TriageError(f"{path}: cannot read the public key ({exc}).") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise TriageError(f"{path}: the public key must be an Ed25519 key.")
        return key
    private = signing_key_path()
    if private.exists():
        return load_signing_key(create=False).public_key()
    pub = private.parent / _PUB_NAME
    if pub.exists():
        return load_public_key(pub)
    return None


def _raw_public(public: Any) -> bytes:
    ser = _serialization()
    return bytes(public.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw))


def key_id(public: Any) -> str:
    """Return the first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


def export_public_key(out: str | Path) -> Path:
    """Write the public key (PEM) to ``out`` so an auditor can verify without the private key."""
    ser = _serialization()
    public = load_signing_key().public_key()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(public.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
    return target


def record_message(seq: int, record_hash: str) -> bytes:
    """The bytes a record's signature covers."""
    return f"triage-audit-record\n{int(seq)}\n{record_hash}".encode()


def _checkpoint_message(seq: int, head: str, time: str, ledger: str, first: str) -> bytes:
    return f"triage-audit-checkpoint\n{int(seq)}\n{head}\n{time}\n{ledger}\n{first}".encode()


def sign(key: Any, message: bytes) -> str:
    """Return the base64 Ed25519 signature of ``message``."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def signature_ok(public: Any, message: bytes, signature: str | None) -> bool:
    """True when ``signature`` (base64) is a valid signature of ``message`` under ``public``."""
    from cryptography.exceptions import InvalidSignature

    if not signature:
        return False
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain had ``seq`` records ending in ``head`` at ``time``."""

    seq: int
    head: str
    time: str
    ledger: str
    registry: str
    key_id: str
    signature: str
    source: str = ""
    #: The hash of the chain's first record: names the chain even in a copied database.
    first: str = ""

    def message(self) -> bytes:
        return _checkpoint_message(self.seq, self.head, self.time, self.ledger, self.first)

    def to_json(self) -> str:
        data = {
            "seq": self.seq,
            "head": self.head,
            "time": self.time,
            "ledger": self.ledger,
            "first": self.first,
            "registry": self.registry,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


def checkpoint_log() -> Path:
    """Return the append-only checkpoint file ``var/audit/checkpoints.jsonl``."""
    return _var() / "audit" / "checkpoints.jsonl"


def make_checkpoint(
    seq: int, head: str, *, ledger: str, registry: str, first: str = ""
) -> Checkpoint:
    """Return a new signed checkpoint of the chain at ``seq`` / ``head`` (time: now, UTC)."""
    key = load_signing_key()
    time = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sig = sign(key, _checkpoint_message(seq, head, time, ledger, first))
    return Checkpoint(seq, head, time, ledger, registry, key_id(key.public_key()), sig, first=first)


def write_checkpoint(checkpoint: Checkpoint, path: str | Path | None = None) -> Path:
    """Append ``checkpoint`` as one JSON line to ``path`` (default the checkpoint log), 0600."""
    target = Path(path) if path is not None else checkpoint_log()
    if path is None:
        secure_dir(_var())
        secure_dir(target.parent)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    torn = False
    if target.exists() and target.stat().st_size:
        with open(target, "rb") as existing:
            existing.seek(-1, os.SEEK_END)
            torn = existing.read(1) != b"\n"  # a write cut short by a crash
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(("\n" if torn else "") + checkpoint.to_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return target


def read_checkpoints(path: str | Path) -> list[Checkpoint]:
    """Return the checkpoints in a JSON-lines file (a torn last line is ignored)."""
    target = Path(path)
    if not target.exists():
        return []
    found: list[Checkpoint] = []
    lines = target.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(
                Checkpoint(
                    seq=int(data["seq"]),
                    head=str(data["head"]),
                    time=str(data["time"]),
                    ledger=str(data.get("ledger", "")),
                    first=str(data.get("first", "")),
                    registry=str(data.get("registry", "")),
                    key_id=str(data.get("key_id", "")),
                    signature=str(data.get("signature", "")),
                    source=f"{target.name}:{number}",
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(lines) or not line.rstrip().endswith("}"):
                continue  # a write cut short by a crash (the next write starts a new line)
            raise TriageError(f"{target}: line {number} is not a checkpoint ({exc}).") from exc
    return found
