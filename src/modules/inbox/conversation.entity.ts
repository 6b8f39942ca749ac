import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CONVERSATION_STATUSES = ['bot', 'human', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** One customer number talking to one chatbot over one channel. */
@Entity('conversations')
@Index('conversations_chatbot_channel_customer_key', ['chatbotId', 'channel', 'customerNumber'], {
  unique: true,
})
@Index('conversations_chatbot_last_message_idx', ['chatbotId', 'lastMessageAt', 'id'])
export class Conversation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  organizationId: string;

  @Column('uuid')
  chatbotId: string;

  @Column({ type: 'text', default: 'sms' })
  channel: 'sms';

  /** The SMS channel that last carried it; null once that channel is disconnected. */
  @Column({ type: 'uuid', nullable: true })
  channelId: string | null;

  @Column()
  customerNumber: string;

  @Column({ type: 'text', default: 'bot' })
  status: ConversationStatus;

  /** The customer texted STOP (or Twilio said so): no bot or agent texts until START. */
  @Column({ type: 'timestamptz', nullable: true })
  optedOutAt: Date | null;

  @Column({ type: 'timestamptz' })
  lastMessageAt: Date;

  @Column({ type: 'text', default: '' })
  lastMessagePreview: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
