import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Organization } from './organization.entity';

/** An API key is kept only as its public prefix and a SHA-256 hash of the whole key. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('api_keys_organization_id_idx')
  @Column('uuid')
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ foreignKeyConstraintName: 'api_keys_organization_id_fkey' })
  organization: Organization;

  @Index('api_keys_prefix_key', { unique: true })
  @Column({ type: 'text' })
  prefix: string;

  @Column({ type: 'bytea' })
  hash: Buffer;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
