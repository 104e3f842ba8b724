"""Signed chain heads (Ed25519), so that a wholly rewritten chain is caught.

A hash chain proves that nothing changed *relative to its head*; someone able
to write the database could rebuild the whole chain. A checkpoint is the head
(seq, hash) signed with a key kept outside the database; an auditor who holds
an earlier checkpoint file checks that the chain still has that hash at that
position.

The signed message is ``amnesty-audit-checkpoint\\n{seq}\\n{hash}\\n{signed_at}\\n``
(UTF-8). Keys are PEM (PKCS#8, unencrypted, file mode 0600); public keys are
shared as raw 32-byte hex.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from amnesty.audit.chain import format_timestamp
from amnesty.errors import ConfigError

DEFAULT_KEY_FILE = "amnesty-audit.key"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    signed_at: dt.datetime
    signed_by: str
    public_key: bytes
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.signed_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": format_timestamp(self.signed_at),
            "signed_by": self.signed_by,
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
        }

    def as_row(self) -> dict[str, Any]:
        return {**self.as_json(), "signed_at": self.signed_at}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Checkpoint:
        signed_at = row["signed_at"]
        if isinstance(signed_at, str):
            signed_at = dt.datetime.fromisoformat(signed_at.replace("Z", "+00:00"))
        try:
            return cls(
                seq=int(row["seq"]),
                hash=str(row["hash"]),
                signed_at=signed_at,
                signed_by=str(row["signed_by"]),
                public_key=bytes.fromhex(row["public_key"]),
                signature=bytes.fromhex(row["signature"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"not a checkpoint: {exc}") from exc


def checkpoint_message(seq: int, head_hash: str, signed_at: dt.datetime) -> bytes:
    return f"amnesty-audit-checkpoint\n{seq}\n{head_hash}\n{format_timestamp(signed_at)}\n".encode()


def load_or_create_key(path: str | Path) -> Ed25519PrivateKey:
    """The signing key at ``path``, generated there (mode 0600) if absent."""
    key_path = Path(path)
    if key_path.exists():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except ValueError as exc:
            raise ConfigError(f"{key_path}: not a PEM private key ({exc})") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{key_path}: not an Ed25519 key; checkpoints use Ed25519")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 from the start, never readable by others even for a moment.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def check_writable(path: str | Path, option: str) -> None:
    """Refuse, before anything is signed or stored, a file that could not be written.

    A checkpoint is signed and stored, then its file is written; a file that
    cannot be written would leave a stored checkpoint the auditor never got.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise ConfigError(f"{option} {target}: is a folder; give a file name")
    if not folder.is_dir():
        raise ConfigError(f"{option} {target}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{option} {target}: folder {folder} is not writable")


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(
    key: Ed25519PrivateKey, seq: int, head_hash: str, signed_at: dt.datetime, signed_by: str
) -> Checkpoint:
    return Checkpoint(
        seq=seq,
        hash=head_hash,
        signed_at=signed_at,
        signed_by=signed_by,
        public_key=public_key_bytes(key),
        signature=key.sign(checkpoint_message(seq, head_hash, signed_at)),
    )


def verify_signature(cp: Checkpoint) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(cp.public_key).verify(cp.signature, cp.message())
    except (InvalidSignature, ValueError):
        return False
    return True


def read_checkpoint_file(path: str | Path) -> Checkpoint:
    try:
        return Checkpoint.from_row(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read checkpoint ({exc})") from exc


def read_public_key(value: str) -> bytes:
    """A trusted public key: 64 hex digits, or a file holding them or a PEM key."""
    text = Path(value).read_text(encoding="utf-8").strip() if Path(value).exists() else value
    if text.startswith("-----BEGIN") and "PRIVATE KEY" in text.split("\n", 1)[0]:
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if isinstance(key, Ed25519PrivateKey):
            return public_key_bytes(key)
        raise ConfigError(f"{value}: not an Ed25519 key")
    if text.startswith("-----BEGIN"):
        pub = serialization.load_pem_public_key(text.encode())
        if isinstance(pub, Ed25519PublicKey):
            return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        raise ConfigError(f"{value}: not an Ed25519 key")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"public key {value!r}: expected 64 hex digits or a key file")
    return raw
