/**
 * Every rule about opt-outs in one place: whose opt-out applies to a send (`optOutSender`), how a
 * statement asks whether a person is opted out (`optedOutSql`), and recording one Twilio told us
 * about. The inbound webhook's single statement writes keyword opt-outs itself (its CTEs insert
 * and delete here), so the hot path stays one round trip.
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

@Injectable()
export class SmsOptOutStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Keeps the first opt-out time: a second STOP or 21610 changes nothing. */
  async record(sender: string, customer: string, source: OptOutSource): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO sms_opt_outs (sender, customer_number, source) VALUES ($1, $2, $3)
       ON CONFLICT (sender, customer_number) DO NOTHING`,
      [sender, customer, source],
    );
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
