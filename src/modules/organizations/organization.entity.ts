import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Plans that include integrations such as the SMS channel. */
export const planIncludesIntegrations = (plan: Plan): boolean => plan !== 'free';

@Entity('organizations')
export class Organization {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column()
  name: string;

  @Column({ type: 'text' })
  plan: Plan;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
