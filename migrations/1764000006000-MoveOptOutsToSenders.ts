import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Opt-outs move from the chatbot's conversation to their own table, keyed by (sender, person) as
 * Twilio scopes them, so they survive disconnect, reconnect elsewhere and deletions. A
 * conversation keeps the sender it was last texted at (`sender`), which is how the inbox still
 * tells whether its customer opted out after its number was disconnected.
 *
 * An opt-out on a conversation whose number was already disconnected cannot be attributed to a
 * sender and is not carried over: nothing can text that conversation until the customer texts
 * again, and Twilio itself still blocks a send to them from that number (21610), which is then
 * recorded here.
 */
export class MoveOptOutsToSenders1764000006000 implements MigrationInterface {
  name = 'MoveOptOutsToSenders1764000006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sms_opt_outs (
        sender text NOT NULL,
        customer_number text NOT NULL,
        opted_out_at timestamptz NOT NULL DEFAULT now(),
        source text NOT NULL,
        CONSTRAINT sms_opt_outs_pkey PRIMARY KEY (sender, customer_number),
        CONSTRAINT sms_opt_outs_sender_check
          CHECK (sender ~ '^(\\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32})$'),
        CONSTRAINT sms_opt_outs_source_check
          CHECK (source IN ('keyword', 'twilio-21610', 'migrated'))
      )`);
    await queryRunner.query(`ALTER TABLE conversations ADD COLUMN sender text`);
    await queryRunner.query(`
      UPDATE conversations c SET sender = s.phone_number
      FROM sms_channels s WHERE s.id = c.channel_id`);
    await queryRunner.query(`
      INSERT INTO sms_opt_outs (sender, customer_number, opted_out_at, source)
      SELECT sender, customer_number, min(opted_out_at), 'migrated'
      FROM conversations
      WHERE opted_out_at IS NOT NULL AND sender IS NOT NULL
      GROUP BY sender, customer_number`);
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN opted_out_at`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations ADD COLUMN opted_out_at timestamptz`);
    await queryRunner.query(`
      UPDATE conversations c SET opted_out_at = o.opted_out_at
      FROM sms_opt_outs o WHERE o.sender = c.sender AND o.customer_number = c.customer_number`);
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN sender`);
    await queryRunner.query(`DROP TABLE sms_opt_outs`);
  }
}
