import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Channel health (issue 15): what the last live check of the customer's Twilio account and number
 * found, shared by every instance (checked at most once a minute per channel, and by the sweep),
 * and the second Auth Token a customer hands us while rotating theirs (a CredentialCipher
 * ciphertext bound to its row and column, erased when it is promoted or cancelled).
 */
export class AddChannelHealthAndPendingAuthToken1764000009000 implements MigrationInterface {
  name = 'AddChannelHealthAndPendingAuthToken1764000009000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sms_channels
        ADD COLUMN pending_auth_token_encrypted text,
        ADD COLUMN health_checked_at timestamptz,
        ADD COLUMN health_claimed_at timestamptz,
        ADD COLUMN health_credentials text NOT NULL DEFAULT 'unknown'
          CONSTRAINT sms_channels_health_credentials_check
          CHECK (health_credentials IN ('valid', 'rejected', 'unknown')),
        ADD COLUMN health_number text NOT NULL DEFAULT 'unknown'
          CONSTRAINT sms_channels_health_number_check
          CHECK (health_number IN ('present', 'gone', 'unknown')),
        ADD COLUMN health_inbound text NOT NULL DEFAULT 'unknown'
          CONSTRAINT sms_channels_health_inbound_check
          CHECK (health_inbound IN ('ours', 'elsewhere', 'unset', 'unknown')),
        ADD COLUMN health_inbound_url text,
        ADD COLUMN health_reported_problem text`);
    await queryRunner.query(
      `CREATE INDEX sms_channels_health_checked_at_idx ON sms_channels (health_checked_at NULLS FIRST, id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sms_channels_health_checked_at_idx`);
    await queryRunner.query(`
      ALTER TABLE sms_channels
        DROP COLUMN pending_auth_token_encrypted,
        DROP COLUMN health_checked_at,
        DROP COLUMN health_claimed_at,
        DROP COLUMN health_credentials,
        DROP COLUMN health_number,
        DROP COLUMN health_inbound,
        DROP COLUMN health_inbound_url,
        DROP COLUMN health_reported_problem`);
  }
}
