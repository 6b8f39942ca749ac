import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConfigError } from '../../config/app-config';
import { CIPHERTEXT_VERSION, CredentialCipher } from './credential-cipher';
import { associatedDataFor, ENCRYPTED_COLUMNS } from './encrypted-columns';

export interface MissingKey {
  keyId: string;
  /** `table.column`, with how many of its values that key encrypted. */
  where: string;
  count: number;
}

/**
 * Re-encrypts every stored secret under the current key (after CREDENTIALS_ENCRYPTION_KEY changed
 * and the old key moved to CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS). Row by row, each update guarded
 * by the old ciphertext, so a concurrent reconnect is never overwritten and the app keeps serving.
 */
@Injectable()
export class CredentialRotationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  /** Key ids that stored ciphertexts name but no configured key has (read from the ids alone). */
  async missingKeys(): Promise<MissingKey[]> {
    const missing: MissingKey[] = [];
    for (const { table, column } of ENCRYPTED_COLUMNS) {
      const rows: { keyId: string; count: number }[] = await this.dataSource.query(
        `SELECT split_part(${column}, '.', 2) AS "keyId", count(*)::int AS count FROM ${table}
         WHERE split_part(${column}, '.', 1) = $1 GROUP BY 1`,
        [CIPHERTEXT_VERSION],
      );
      for (const row of rows) {
        if (!this.cipher.hasKey(row.keyId)) missing.push({ ...row, where: `${table}.${column}` });
      }
    }
    return missing;
  }

  /**
   * At start: a stored credential under a key this instance lacks means the encryption key was
   * changed without the old one in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS. Refused in one line
   * naming the key id (never a key), before any webhook could be answered 503 for it.
   */
  async assertKeysConfigured(): Promise<void> {
    const missing = await this.missingKeys();
    if (missing.length === 0) return;
    const ids = [...new Set(missing.map((m) => m.keyId))];
    const found = missing.map((m) => `${m.count} in ${m.where} under key id ${m.keyId}`).join(', ');
    throw new ConfigError(
      'CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS',
      `lacks the key${ids.length > 1 ? 's' : ''} with id ${ids.join(', ')} that stored credentials were encrypted with (${found}): ` +
        'add the old key to CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS (a key id is the first 12 hex digits of its SHA-256), start, then run `npm run cli -- credentials:reencrypt`',
    );
  }

  async reencryptAll(): Promise<{ reencrypted: number; total: number }> {
    let reencrypted = 0;
    let total = 0;
    for (const { table, column } of ENCRYPTED_COLUMNS) {
      const rows: { id: string; value: string }[] = await this.dataSource.query(
        `SELECT id, ${column} AS value FROM ${table} WHERE ${column} IS NOT NULL`,
      );
      total += rows.length;
      for (const row of rows) {
        if (!this.cipher.needsRotation(row.value)) continue;
        const aad = associatedDataFor(table, row.id, column);
        const fresh = this.cipher.encrypt(this.cipher.decrypt(row.value, aad), aad);
        const [, affected] = await this.dataSource.query(
          `UPDATE ${table} SET ${column} = $1 WHERE id = $2 AND ${column} = $3`,
          [fresh, row.id, row.value],
        );
        if (affected) reencrypted += 1;
      }
    }
    return { reencrypted, total };
  }
}
