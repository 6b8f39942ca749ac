/**
 * Every column that holds a CredentialCipher ciphertext. Rotation walks this list, so a new secret
 * column is added here in the same change that adds it to a migration.
 */
export interface EncryptedColumn {
  table: string;
  column: string;
}

export const ENCRYPTED_COLUMNS: EncryptedColumn[] = [
  { table: 'sms_channels', column: 'auth_token_encrypted' },
  { table: 'sms_channels', column: 'pending_auth_token_encrypted' },
];

/** Associated data that binds a ciphertext to its table, row and column. */
export const associatedDataFor = (table: string, rowId: string, column: string): string =>
  `${table}:${rowId}:${column}`;
