import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CredentialCipher } from './credential-cipher';
import { associatedDataFor, ENCRYPTED_COLUMNS } from './encrypted-columns';

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
