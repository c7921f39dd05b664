"""Airtable tokens at rest: KMS encryption bound to the owning user (encryption context)."""

from __future__ import annotations

import base64

from botocore.exceptions import BotoCoreError, ClientError

from common.core.aws import client
from common.core.errors import UpstreamError
from common.core.settings import get_settings


def encrypt_token(token: str, user_id: str) -> str:
    """Ciphertext (base64) that only decrypts with the same user id."""
    try:
        blob = client("kms").encrypt(KeyId=get_settings().token_key_id, Plaintext=token.encode(),
                                     EncryptionContext={"user_id": user_id})["CiphertextBlob"]
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The token could not be encrypted; nothing was stored.") from e
    return base64.b64encode(blob).decode()


def decrypt_token(ciphertext: str, user_id: str) -> str:
    """The token back; KMS refuses if the ciphertext belongs to another user."""
    try:
        plain = client("kms").decrypt(CiphertextBlob=base64.b64decode(ciphertext),
                                      EncryptionContext={"user_id": user_id})["Plaintext"]
    except (ClientError, BotoCoreError) as e:
        # e.g. the key was replaced (a fresh `make dev` creates a new one): the user must
        # store the token again; nothing else can recover it.
        raise UpstreamError("This connection's token cannot be decrypted any more; delete the "
                            "connection and add it again.") from e
    return plain.decode()
