import { randomBytes } from 'node:crypto';
import { CredentialCipher, DecryptionError, keyIdOf } from './credential-cipher';
import { Secret } from '../../common/secret';

const cipherWith = (current: Buffer, previous: Buffer[] = []) =>
  new CredentialCipher({ encryptionKeys: { current, previous } });

describe('CredentialCipher', () => {
  const key = randomBytes(32);
  const token = new Secret('0123456789abcdef0123456789abcdef');

  it('round-trips a secret bound to its row', () => {
    const cipher = cipherWith(key);
    const encrypted = cipher.encrypt(token, 'sms_channels:1:auth_token');
    expect(encrypted).not.toContain(token.reveal());
    expect(encrypted.split('.')[1]).toBe(keyIdOf(key));
    expect(cipher.decrypt(encrypted, 'sms_channels:1:auth_token').reveal()).toBe(token.reveal());
  });

  it('uses a fresh IV for every encryption', () => {
    const cipher = cipherWith(key);
    const a = cipher.encrypt(token, 'aad');
    const b = cipher.encrypt(token, 'aad');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(Buffer.from(a.split('.')[2], 'base64url')).toHaveLength(12);
  });

  it('rejects a tampered ciphertext or tag', () => {
    const cipher = cipherWith(key);
    const parts = cipher.encrypt(token, 'aad').split('.');
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] ^= 1;
      return bytes.toString('base64url');
    };
    const badData = [...parts.slice(0, 4), flip(parts[4])].join('.');
    const badTag = [...parts.slice(0, 3), flip(parts[3]), parts[4]].join('.');
    expect(() => cipher.decrypt(badData, 'aad')).toThrow(DecryptionError);
    expect(() => cipher.decrypt(badTag, 'aad')).toThrow(DecryptionError);
  });

  it('refuses a truncated tag (GCM accepts a prefix of the tag unless its length is pinned)', () => {
    const cipher = cipherWith(key);
    const parts = cipher.encrypt(token, 'aad').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const tag = Buffer.from(parts[3], 'base64url').subarray(0, bytes).toString('base64url');
      const truncated = [...parts.slice(0, 3), tag, parts[4]].join('.');
      expect(() => cipher.decrypt(truncated, 'aad')).toThrow(DecryptionError);
    }
  });

  it('refuses a ciphertext copied to another row (wrong associated data)', () => {
    const cipher = cipherWith(key);
    const encrypted = cipher.encrypt(token, 'sms_channels:row-a:auth_token');
    expect(() => cipher.decrypt(encrypted, 'sms_channels:row-b:auth_token')).toThrow(
      DecryptionError,
    );
  });

  it('decrypts with a previous key after rotation and flags the value for re-encryption', () => {
    const oldKey = randomBytes(32);
    const encrypted = cipherWith(oldKey).encrypt(token, 'aad');
    const rotated = cipherWith(key, [oldKey]);
    expect(rotated.decrypt(encrypted, 'aad').reveal()).toBe(token.reveal());
    expect(rotated.needsRotation(encrypted)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt(token, 'aad'))).toBe(false);
  });

  it('cannot decrypt once the old key is dropped, and says which key is missing', () => {
    const oldKey = randomBytes(32);
    const encrypted = cipherWith(oldKey).encrypt(token, 'aad');
    expect(() => cipherWith(key).decrypt(encrypted, 'aad')).toThrow(
      `key ${keyIdOf(oldKey)} is not configured`,
    );
  });

  it('never prints the plaintext of a Secret', () => {
    expect(String(token)).toBe('[REDACTED]');
    expect(JSON.stringify({ token })).toBe('{"token":"[REDACTED]"}');
    expect(require('node:util').inspect({ token })).not.toContain(token.reveal());
  });
});
