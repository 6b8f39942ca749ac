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
import { Conversation } from './conversation.entity';

export type MessageDirection = 'inbound' | 'outbound';
export type MessageAuthor = 'customer' | 'bot' | 'agent';

@Entity('messages')
@Check('messages_direction_check', `direction IN ('inbound', 'outbound')`)
@Check('messages_author_check', `author IN ('customer', 'bot', 'agent')`)
@Index('messages_conversation_created_idx', ['conversationId', 'createdAt', 'id'])
export class Message {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  conversationId: string;

  @ManyToOne(() => Conversation, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'messages_conversation_id_fkey' })
  conversation: Conversation;

  @Column('uuid')
  organizationId: string;

  @Column({ type: 'text' })
  direction: MessageDirection;

  @Column({ type: 'text' })
  author: MessageAuthor;

  @Column({ type: 'text' })
  body: string;

  /** Twilio's MessageSid: inbound ones make webhook retries idempotent; outbound ones match callbacks. */
  @Index('messages_twilio_sid_key', { unique: true })
  @Column({ type: 'text', nullable: true })
  twilioSid: string | null;

  @Column({ type: 'text' })
  deliveryStatus: string;

  @Column({ type: 'smallint', default: 0 })
  deliveryRank: number;

  @Column({ type: 'integer', nullable: true })
  errorCode: number | null;

  @Column({ type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'smallint', default: 1 })
  segments: number;

  @Column({ type: 'text', default: 'GSM-7' })
  encoding: string;

  @Column({ type: 'smallint', default: 0 })
  mediaDropped: number;

  /** The inbound message a bot reply answers: unique, so a retried job never writes two replies. */
  @Index('messages_reply_to_key', { unique: true })
  @Column({ type: 'uuid', nullable: true })
  replyToMessageId: string | null;

  @ManyToOne(() => Message, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({
    name: 'reply_to_message_id',
    foreignKeyConstraintName: 'messages_reply_to_message_id_fkey',
  })
  replyTo: Message | null;

  /** Set just before Messages.create; with no SID after it, the outcome is unknown and is looked up. */
  @Column({ type: 'timestamptz', nullable: true })
  sendAttemptedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
