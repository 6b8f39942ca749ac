import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A channel remembers the Messaging Service its number is in (A2P 10DLC), as Twilio showed it at
 * connect: replies name it, opt-outs are scoped to it, and the status shows where Twilio reads
 * the inbound URL. The webhook we set is remembered with where we set it (the number or the
 * service) and what was there before, so disconnect puts back only what we changed. Existing
 * rows have no service; the webhook they configured was the number's, and what it replaced is
 * unknown (disconnect clears it, as before).
 */
export class AddMessagingServiceToSmsChannels1764000008000 implements MigrationInterface {
  name = 'AddMessagingServiceToSmsChannels1764000008000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sms_channels
        ADD COLUMN messaging_service_sid text,
        ADD COLUMN messaging_service_friendly_name text,
        ADD COLUMN messaging_service_inbound_webhook text,
        ADD COLUMN messaging_service_us_a2p_registered boolean,
        ADD COLUMN webhook_configured_on text,
        ADD COLUMN webhook_previous_url text,
        ADD COLUMN webhook_previous_method text,
        ADD CONSTRAINT sms_channels_messaging_service_sid_check
          CHECK (messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
        ADD CONSTRAINT sms_channels_messaging_service_inbound_webhook_check
          CHECK (messaging_service_inbound_webhook IN ('number', 'service')),
        ADD CONSTRAINT sms_channels_webhook_configured_on_check
          CHECK (webhook_configured_on IN ('number', 'service'))`);
    await queryRunner.query(
      `UPDATE sms_channels SET webhook_configured_on = 'number' WHERE webhook_configured_by_us`,
    );
    await queryRunner.query(
      `CREATE INDEX sms_channels_messaging_service_sid_idx ON sms_channels (messaging_service_sid)
       WHERE messaging_service_sid IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX sms_channels_messaging_service_sid_idx`);
    await queryRunner.query(`
      ALTER TABLE sms_channels
        DROP COLUMN messaging_service_sid,
        DROP COLUMN messaging_service_friendly_name,
        DROP COLUMN messaging_service_inbound_webhook,
        DROP COLUMN messaging_service_us_a2p_registered,
        DROP COLUMN webhook_configured_on,
        DROP COLUMN webhook_previous_url,
        DROP COLUMN webhook_previous_method`);
  }
}
