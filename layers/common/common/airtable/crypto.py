"""Airtable tokens at rest: KMS encryption bound to the owning user (encryption context)."""

from __future__ import annotations

import base64

from common.aws import client
from common.settings import get_settings


def encrypt_token(token: str, user_id: str) -> str:
    """Ciphertext (base64) that only decrypts with the same user id."""
    blob = client("kms").encrypt(KeyId=get_settings().token_key_id, Plaintext=token.encode(),
                                 EncryptionContext={"user_id": user_id})["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def decrypt_token(ciphertext: str, user_id: str) -> str:
    """The token back; KMS refuses if the ciphertext belongs to another user."""
    plain = client("kms").decrypt(CiphertextBlob=base64.b64decode(ciphertext),
                                  EncryptionContext={"user_id": user_id})["Plaintext"]
    return plain.decode()
