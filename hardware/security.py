"""Security module 安全模块: authenticates the terminal to the card before any write.

Real issuance uses a PSAM card in the reader or an online encryption machine (HSM) holding
the ministry's SM4 keys, which are not public. The platform talks to either through
``SecurityModule``; ``SimulatedSecurityModule`` stands in for them with a configured key, and
the virtual card checks the same cryptogram, so the authentication step is exercised for real.
"""
from __future__ import annotations

import abc
import hashlib
import hmac
import os

DEFAULT_KEY_ENV = "SSCARD_SAM_KEY"
# Development key of the simulated module and the virtual card; never a production secret.
DEMO_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


class SecurityModule(abc.ABC):
    """What a PSAM / encryption machine must offer for terminal authentication."""

    key_id: int = 0x01

    @abc.abstractmethod
    def external_auth_cryptogram(self, challenge: bytes, card_identifier: bytes | None) -> bytes:
        """The 8-byte cryptogram the card expects in EXTERNAL AUTHENTICATE for ``challenge``
        (from GET CHALLENGE). ``card_identifier`` allows per-card key diversification."""


def simulated_cryptogram(key: bytes, challenge: bytes) -> bytes:
    """Stand-in for SM4(key, challenge): a keyed MAC, truncated to 8 bytes."""
    return hmac.new(key, b"SSSE-EXT-AUTH" + challenge, hashlib.sha256).digest()[:8]


class SimulatedSecurityModule(SecurityModule):
    def __init__(self, key: bytes | None = None):
        self.key = key or key_from_env()

    def external_auth_cryptogram(self, challenge: bytes, card_identifier: bytes | None) -> bytes:
        return simulated_cryptogram(self.key, challenge)


def key_from_env() -> bytes:
    """The configured key (hex in $SSCARD_SAM_KEY), or the demo key."""
    value = os.environ.get(DEFAULT_KEY_ENV)
    return bytes.fromhex(value) if value else DEMO_KEY
