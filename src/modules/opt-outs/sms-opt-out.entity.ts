import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

export const OPT_OUT_SOURCES = ['keyword', 'twilio-21610', 'migrated'] as const;
export type OptOutSource = (typeof OPT_OUT_SOURCES)[number];

/**
 * A person who asked a sender to stop texting them: Twilio's own scope, the sender they texted
 * (our number, or the Messaging Service SID `MG…` when the number is in one) and their number.
 * Deliberately tied to nothing else (no chatbot, channel, conversation or organization, and no
 * foreign key): it survives disconnect and reconnect, the number moving to another chatbot or
 * organization, and a deleted conversation or chatbot. The Twilio account is not part of the key
 * either: the person texted a number, not an account, and a number moved between accounts is
 * still the number they asked to stop.
 */
@Entity('sms_opt_outs')
@Check('sms_opt_outs_sender_check', `sender ~ '^(\\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32})$'`)
@Check('sms_opt_outs_source_check', `source IN ('keyword', 'twilio-21610', 'migrated')`)
export class SmsOptOut {
  /** E.164 of our number, or a Messaging Service SID. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sms_opt_outs_pkey' })
  sender: string;

  /** The person's number, as Twilio signed it in `From`. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'sms_opt_outs_pkey' })
  customerNumber: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  optedOutAt: Date;

  /** An opt-out keyword (or Twilio's OptOutType), Twilio's 21610 on a send, or the migration. */
  @Column({ type: 'text' })
  source: OptOutSource;
}
