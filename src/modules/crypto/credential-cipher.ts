/**
 * AES-256-GCM for stored credentials. Each ciphertext is `v1.<keyId>.<iv>.<tag>.<data>` (base64url
 * parts): a fresh 96-bit IV per encryption, the key id so rotation can find the right key, and
 * associated data naming the owning row so a ciphertext copied to another row will not decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Secret } from '../../common/secret';

export type EncryptedValue = string & { readonly __encrypted: unique symbol };

export const CIPHERTEXT_VERSION = 'v1';
const VERSION = CIPHERTEXT_VERSION;
/** GCM's full 128-bit tag; a shorter one would let a forger try far fewer guesses. */
const AUTH_TAG_BYTES = 16;

/** A stored credential that no configured key decrypts (a missing old key, a tampered value). */
export class DecryptionError extends DomainError {
  constructor(reason: string) {
    super('CREDENTIALS_UNREADABLE', `Could not decrypt stored credential: ${reason}`);
  }
}

/** A key's id is derived from the key, so no extra configuration can disagree with it. */
export const keyIdOf = (key: Buffer): string =>
  createHash('sha256').update(key).digest('hex').slice(0, 12);

@Injectable()
export class CredentialCipher {
  private readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'encryptionKeys'>) {
    const { current, previous } = config.encryptionKeys;
    this.currentKeyId = keyIdOf(current);
    for (const key of [current, ...previous]) this.keys.set(keyIdOf(key), key);
  }

  encrypt(plaintext: Secret, associatedData: string): EncryptedValue {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext.reveal(), 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url'));
    return [VERSION, this.currentKeyId, ...parts].join('.') as EncryptedValue;
  }

  decrypt(value: string, associatedData: string): Secret {
    const [version, keyId, iv, tag, data] = value.split('.');
    if (version !== VERSION || data === undefined) throw new DecryptionError('unknown format');
    const key = this.keys.get(keyId);
    if (!key) throw new DecryptionError(`key ${keyId} is not configured`);
    try {
      // Pinned: otherwise Node accepts any tag of 4 to 16 bytes, e.g. a truncated one.
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
        authTagLength: AUTH_TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([
        decipher.update(Buffer.from(data, 'base64url')),
        decipher.final(),
      ]);
      return new Secret(plain.toString('utf8'));
    } catch {
      throw new DecryptionError('authentication failed');
    }
  }

  /** True when a ciphertext naming this key id can be decrypted here. */
  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** True when the value was written under an older key and should be re-encrypted. */
  needsRotation(value: string): boolean {
    return value.split('.')[1] !== this.currentKeyId;
  }

  get keyId(): string {
    return this.currentKeyId;
  }
}
