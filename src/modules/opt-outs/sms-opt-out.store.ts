/**
 * Every rule about opt-outs in one place: whose opt-out applies to a send (`optOutSender`), how a
 * statement asks whether a person is opted out (`optedOutSql`), and recording or clearing one.
 * The inbound webhook's single statement records keyword opt-outs and opt-ins through
 * `recordOptOutSql` / `clearOptOutSql`, so the hot path stays one round trip.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { OptOutSource } from './sms-opt-out.entity';

/**
 * The sender an opt-out is scoped to for a channel, as Twilio scopes it: the Messaging Service
 * when the number is in one (a STOP to any number of a service opts the person out of the whole
 * service, and Twilio then refuses every send through it with 21610), else the number the person
 * texted. `channelOptOutSenderSql` says the same in SQL and must stay in step.
 */
export const optOutSender = (channel: {
  phoneNumber: string;
  messagingServiceSid: string | null;
}): string => channel.messagingServiceSid ?? channel.phoneNumber;

/** `optOutSender` for an `sms_channels` row in a statement (`alias` is the row's alias). */
export const channelOptOutSenderSql = (alias: string): string =>
  `COALESCE(${alias}.messaging_service_sid, ${alias}.phone_number)`;

/** A boolean SQL expression: `customer` opted out of `sender` (both SQL expressions). */
export const optedOutSql = (sender: string, customer: string): string =>
  `EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.sender = ${sender} AND o.customer_number = ${customer})`;

/**
 * A data-modifying step: `customer` opted out of `sender` when `when` holds (SQL expressions).
 * The first opt-out's time and source are kept: a second STOP or 21610 changes nothing.
 */
export const recordOptOutSql = (
  sender: string,
  customer: string,
  source: string,
  when: string,
): string => `INSERT INTO sms_opt_outs (sender, customer_number, source)
    SELECT ${sender}::text, ${customer}::text, ${source}::text WHERE ${when}
    ON CONFLICT (sender, customer_number) DO NOTHING`;

/** A data-modifying step: `customer` may be texted by `sender` again when `when` holds (START). */
export const clearOptOutSql = (sender: string, customer: string, when: string): string =>
  `DELETE FROM sms_opt_outs WHERE sender = ${sender} AND customer_number = ${customer} AND ${when}`;

@Injectable()
export class SmsOptOutStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Keeps the first opt-out time (recordOptOutSql). */
  async record(sender: string, customer: string, source: OptOutSource): Promise<void> {
    await this.dataSource.query(recordOptOutSql('$1', '$2', '$3', 'true'), [
      sender,
      customer,
      source,
    ]);
  }

  /** Inside `manager`'s transaction when given, so it reads after the caller's row locks. */
  async isOptedOut(sender: string, customer: string, manager?: EntityManager): Promise<boolean> {
    const [row]: { opted_out: boolean }[] = await (manager ?? this.dataSource).query(
      `SELECT ${optedOutSql('$1', '$2')} AS opted_out`,
      [sender, customer],
    );
    return row.opted_out;
  }
}
