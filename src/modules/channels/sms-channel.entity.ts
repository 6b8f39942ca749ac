import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Chatbot } from '../agent';

export type InboundWebhookOn = 'number' | 'service';
export type CredentialsHealth = 'valid' | 'rejected' | 'unknown';
/** Whether the number is still on the customer's Twilio account. */
export type NumberHealth = 'present' | 'gone' | 'unknown';
/** Where the number's incoming messages go: to our webhook, elsewhere, nowhere. */
export type InboundHealth = 'ours' | 'elsewhere' | 'unset' | 'unknown';

/**
 * A chatbot's connection to a customer's own Twilio number. The Auth Token is stored only as a
 * CredentialCipher ciphertext bound to this row (see crypto/encrypted-columns.ts); disconnect
 * deletes the row, so no ciphertext outlives the connection.
 */
@Entity('sms_channels')
@Check('sms_channels_messaging_service_sid_check', `messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'`)
@Check(
  'sms_channels_messaging_service_inbound_webhook_check',
  `messaging_service_inbound_webhook IN ('number', 'service')`,
)
@Check('sms_channels_webhook_configured_on_check', `webhook_configured_on IN ('number', 'service')`)
@Check(
  'sms_channels_health_credentials_check',
  `health_credentials IN ('valid', 'rejected', 'unknown')`,
)
@Check('sms_channels_health_number_check', `health_number IN ('present', 'gone', 'unknown')`)
@Check(
  'sms_channels_health_inbound_check',
  `health_inbound IN ('ours', 'elsewhere', 'unset', 'unknown')`,
)
@Index('sms_channels_messaging_service_sid_idx', ['messagingServiceSid'], {
  where: 'messaging_service_sid IS NOT NULL',
})
// (health_checked_at NULLS FIRST, id): the sweep's order; TypeORM cannot express NULLS FIRST, so
// the migration owns this index and schema comparison leaves it alone.
@Index('sms_channels_health_checked_at_idx', { synchronize: false })
export class SmsChannel {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Index('sms_channels_chatbot_id_key', { unique: true })
  @Column('uuid')
  chatbotId: string;

  @ManyToOne(() => Chatbot, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'sms_channels_chatbot_id_fkey' })
  chatbot: Chatbot;

  @Column({ type: 'text' })
  accountSid: string;

  @Column({ type: 'text', select: true })
  authTokenEncrypted: string;

  /**
   * The Auth Token the customer gave us while rotating theirs (auth-token-rotation.use-case.ts):
   * accepted beside the current one until it is promoted (erasing the old one) or cancelled.
   */
  @Column({ type: 'text', nullable: true })
  pendingAuthTokenEncrypted: string | null;

  /** E.164; one number answers for one chatbot in the whole system. */
  @Index('sms_channels_phone_number_key', { unique: true })
  @Column({ type: 'text' })
  phoneNumber: string;

  @Column({ type: 'text' })
  phoneNumberSid: string;

  @Column({ type: 'text', nullable: true })
  friendlyName: string | null;

  /** Twilio account type at connect time: 'Trial' accounts only text verified numbers. */
  @Column({ type: 'text' })
  accountType: string;

  /**
   * The Messaging Service whose sender pool held the number at connect (A2P 10DLC), or null.
   * Replies name it beside From, and opt-outs are scoped to it (see opt-outs/sms-opt-out.store).
   */
  @Column({ type: 'text', nullable: true })
  messagingServiceSid: string | null;

  @Column({ type: 'text', nullable: true })
  messagingServiceFriendlyName: string | null;

  /** Where Twilio reads the inbound URL of a service number: the number's SmsUrl or the service's. */
  @Column({ type: 'text', nullable: true })
  messagingServiceInboundWebhook: InboundWebhookOn | null;

  @Column({ type: 'boolean', nullable: true })
  messagingServiceUsA2pRegistered: boolean | null;

  /** We set the inbound URL ourselves, so disconnect puts back what was there. */
  @Column({ default: false })
  webhookConfiguredByUs: boolean;

  /** Which URL we set: the number's SmsUrl or its Messaging Service's InboundRequestUrl. */
  @Column({ type: 'text', nullable: true })
  webhookConfiguredOn: InboundWebhookOn | null;

  /** The URL (and method) we replaced, put back on disconnect; null: unknown or none. */
  @Column({ type: 'text', nullable: true })
  webhookPreviousUrl: string | null;

  @Column({ type: 'text', nullable: true })
  webhookPreviousMethod: string | null;

  /**
   * Whether the inbound URL Twilio uses for the number (its SmsUrl, or its service's) pointed at
   * our webhook when we last looked (null: unknown).
   */
  @Column({ type: 'boolean', nullable: true })
  webhookPointsToUs: boolean | null;

  @Column({ type: 'timestamptz' })
  connectedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastInboundAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastOutboundAt: Date | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastErrorAt: Date | null;

  /** The last live check (channel-health.service.ts); 'unknown' until one answered. */
  @Column({ type: 'timestamptz', nullable: true })
  healthCheckedAt: Date | null;

  /** When an instance last began a check: at most one check per channel per minute. */
  @Column({ type: 'timestamptz', nullable: true })
  healthClaimedAt: Date | null;

  @Column({ type: 'text', default: 'unknown' })
  healthCredentials: CredentialsHealth;

  @Column({ type: 'text', default: 'unknown' })
  healthNumber: NumberHealth;

  @Column({ type: 'text', default: 'unknown' })
  healthInbound: InboundHealth;

  @Column({ type: 'text', nullable: true })
  healthInboundUrl: string | null;

  /** The bad health last reported to Sentry (null: healthy), so each change is reported once. */
  @Column({ type: 'text', nullable: true })
  healthReportedProblem: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
