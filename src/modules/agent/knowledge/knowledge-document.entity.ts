import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Organization } from '../../organizations';
import { Chatbot } from '../chatbot.entity';
import { KnowledgePassage } from './knowledge-passage.entity';

/** A document as the customer uploaded it; search works on its passages. */
@Entity('knowledge_documents')
@Index('knowledge_documents_chatbot_id_created_at_idx', ['chatbotId', 'createdAt'])
export class KnowledgeDocument {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('knowledge_documents_organization_id_idx')
  @Column('uuid')
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'knowledge_documents_organization_id_fkey' })
  organization: Organization;

  @Column('uuid')
  chatbotId: string;

  @ManyToOne(() => Chatbot, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'knowledge_documents_chatbot_id_fkey' })
  chatbot: Chatbot;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  content: string;

  @OneToMany(() => KnowledgePassage, (passage) => passage.document)
  passages: KnowledgePassage[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
