import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Plans that include integrations such as the SMS channel. */
export const planIncludesIntegrations = (plan: Plan): boolean => plan !== 'free';

@Entity('organizations')
@Check('organizations_plan_check', `plan IN ('free', 'starter', 'pro', 'enterprise')`)
export class Organization {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  plan: Plan;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
