import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSmsChannels1764000003000 implements MigrationInterface {
  name = 'CreateSmsChannels1764000003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sms_channels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL,
        chatbot_id uuid NOT NULL CONSTRAINT sms_channels_chatbot_id_fkey REFERENCES chatbots(id) ON DELETE CASCADE,
        account_sid text NOT NULL,
        auth_token_encrypted text NOT NULL,
        phone_number text NOT NULL,
        phone_number_sid text NOT NULL,
        friendly_name text,
        account_type text NOT NULL,
        webhook_configured_by_us boolean NOT NULL DEFAULT false,
        webhook_points_to_us boolean,
        connected_at timestamptz NOT NULL,
        last_inbound_at timestamptz,
        last_outbound_at timestamptz,
        last_error text,
        last_error_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX sms_channels_chatbot_id_key ON sms_channels (chatbot_id)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX sms_channels_phone_number_key ON sms_channels (phone_number)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE sms_channels`);
  }
}
