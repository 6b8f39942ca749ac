import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Organization } from '../organizations';

@Entity('chatbots')
export class Chatbot {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('chatbots_organization_id_idx')
  @Column('uuid')
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'chatbots_organization_id_fkey' })
  organization: Organization;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  systemPrompt: string;

  /** Sent when the agent has nothing to say (no matching knowledge, or the model returned nothing). */
  @Column({
    type: 'text',
    // An SQL literal: TypeORM does not escape the apostrophe of a plain string default, so the
    // schema diff (migration:generate) would see a change that is not there.
    default: () =>
      "'Sorry, I don''t have an answer to that yet. A person from our team will follow up.'",
  })
  fallbackMessage: string;

  /** Answer to an MMS with no text: we drop attachments, so say that only text works. */
  @Column({
    type: 'text',
    default: 'Sorry, I can only read text messages. Please send your question as text.',
  })
  mediaOnlyReply: string;

  /** PostgreSQL text search configuration for the knowledge base ('simple', 'english', 'finnish', ...). */
  @Column({ type: 'text', default: 'simple' })
  language: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
