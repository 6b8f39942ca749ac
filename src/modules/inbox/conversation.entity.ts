import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  VirtualColumn,
} from 'typeorm';
import { Chatbot } from '../agent';
import { SmsChannel } from '../channels';
import { optedOutSql } from '../opt-outs';
import { Organization } from '../organizations';

export const CONVERSATION_STATUSES = ['bot', 'human', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** One customer number talking to one chatbot over one channel. */
@Entity('conversations')
@Check('conversations_status_check', `status IN ('bot', 'human', 'closed')`)
@Index('conversations_chatbot_channel_customer_key', ['chatbotId', 'channel', 'customerNumber'], {
  unique: true,
})
@Index('conversations_chatbot_last_message_idx', ['chatbotId', 'lastMessageAt', 'id'])
export class Conversation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'conversations_organization_id_fkey' })
  organization: Organization;

  @Column('uuid')
  chatbotId: string;

  @ManyToOne(() => Chatbot, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'conversations_chatbot_id_fkey' })
  chatbot: Chatbot;

  @Column({ type: 'text', default: 'sms' })
  channel: 'sms';

  /** The SMS channel that last carried it; null once that channel is disconnected. */
  @Index('conversations_channel_id_idx')
  @Column({ type: 'uuid', nullable: true })
  channelId: string | null;

  @ManyToOne(() => SmsChannel, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'channel_id', foreignKeyConstraintName: 'conversations_channel_id_fkey' })
  smsChannel: SmsChannel | null;

  /** `From` as Twilio signed it: E.164, or a short code or alphanumeric sender ID. */
  @Column({ type: 'text' })
  customerNumber: string;

  /**
   * The sender, in opt-out terms (see opt-outs/), the customer last texted; kept when the number
   * is disconnected, so `optedOut` stays true for a customer who opted out of it.
   */
  @Column({ type: 'text', nullable: true })
  sender: string | null;

  @Column({ type: 'text', default: 'bot' })
  status: ConversationStatus;

  /** The customer opted out of `sender` (read from sms_opt_outs, never stored here). */
  @VirtualColumn({
    type: 'boolean',
    query: (alias) => optedOutSql(`${alias}.sender`, `${alias}.customer_number`),
  })
  optedOut: boolean;

  @Column({ type: 'timestamptz' })
  lastMessageAt: Date;

  @Column({ type: 'text', default: '' })
  lastMessagePreview: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
