"""Pseudonymisation of personal data, as the contract requires.

Three forms of every personal value: a keyed hash (HMAC-SHA256) that is the stable node
key, so two applications sharing a phone meet on one node without anyone seeing the
number; the clear value encrypted with AES-256-GCM; and a masked display form.
"""

from __future__ import annotations

import base64
import functools
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyConfigError(ValueError):
    """A hashing or encryption key is missing or malformed."""


def _decode_key(name: str, encoded: str) -> bytes:
    if not encoded:
        raise KeyConfigError(
            f"{name} is not set: give 32 random bytes, base64-encoded "
            "(./run writes var/fraudgraph.env with fresh keys on first use)"
        )
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise KeyConfigError(f"{name} is not valid base64") from None
    if len(key) != 32:
        raise KeyConfigError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


def new_key() -> str:
    """A fresh random 256-bit key, base64-encoded, for configuration files."""
    return base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Protected:
    """The stored forms of one personal value."""

    token: str
    encrypted: str
    masked: str


class Pseudonymiser:
    """Hashes, encrypts and masks personal values with keys from configuration."""

    def __init__(self, hash_key: str, encryption_key: str) -> None:
        self._hash_key = _decode_key("FRAUDGRAPH_HASH_KEY", hash_key)
        self._aead = AESGCM(_decode_key("FRAUDGRAPH_ENCRYPTION_KEY", encryption_key))
        self._encoded = (hash_key, encryption_key)

    def __reduce__(self) -> tuple[type[Pseudonymiser], tuple[str, str]]:
        # Ingest's validation worker processes need the same keys (AESGCM itself cannot be
        # pickled); the pickle holds them, so it must only travel to those processes.
        return (Pseudonymiser, self._encoded)

    def token(self, kind: str, normalised: str) -> str:
        """A keyed hash of a normalised value; the kind keeps equal strings of different
        kinds (an account and a phone with the same digits) apart."""
        # hmac.digest is the one-shot C path: ingest calls this a dozen times per row.
        return hmac.digest(self._hash_key, f"{kind}\x1f{normalised}".encode(), "sha256").hex()[:32]

    def encrypt(self, clear: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, clear.encode(), None)).decode()

    def decrypt(self, stored: str) -> str:
        raw = base64.b64decode(stored)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def protect(self, kind: str, normalised: str, masked: str) -> Protected:
        return self._protect(kind, normalised, masked)

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 - one Pseudonymiser per process
    def _protect(self, kind: str, normalised: str, masked: str) -> Protected:
        # A shared identifier (a switchboard, a family's address) recurs in many rows but
        # is stored once; re-using its ciphertext reveals no more than its token already
        # does (that the rows share it), and saves an encryption per repeat.
        return Protected(self.token(kind, normalised), self.encrypt(normalised), masked)


def mask_id_number(value: str) -> str:
    """``310101199001011234`` -> ``3101**********1234``."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(e164: str) -> str:
    """``+8613812345678`` -> ``138****5678``; a landline keeps its area code."""
    national = e164.removeprefix("+86")
    if len(national) == 11 and national.startswith("1"):
        return national[:3] + "****" + national[-4:]
    return national[:3] + "*" * max(len(national) - 7, 1) + national[-4:]


def mask_account(value: str) -> str:
    """``6222465936741903160`` -> ``6222***********3160``."""
    return value[:4] + "*" * max(len(value) - 8, 1) + value[-4:]


def mask_name(value: str) -> str:
    """``孙小红`` -> ``孙**``."""
    return value[:1] + "*" * max(len(value) - 1, 1)


def mask_address(value: str) -> str:
    """Keep the first six characters (province and city), hide the rest."""
    return value[:6] + "***"
