import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyResolver } from '../../common/auth/api-key-resolver';
import { Errors } from '../../common/errors/errors';
import { ApiKey } from './api-key.entity';
import { Organization, Plan, PLANS } from './organization.entity';

/**
 * Keys look like `sk_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole key is
 * compared in constant time. The plain key exists only in the return value of create().
 */
const KEY_PATTERN = /^sk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

export interface IssuedKey {
  keyId: string;
  apiKey: string;
}

@Injectable()
export class ApiKeysService implements ApiKeyResolver {
  constructor(
    @InjectRepository(Organization) private readonly organizations: Repository<Organization>,
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
  ) {}

  async createOrganization(
    name: string,
    plan: string,
  ): Promise<{ organizationId: string; apiKey: string }> {
    if (!name.trim()) throw Errors.organizationNameRequired();
    if (!PLANS.includes(plan as Plan)) throw Errors.organizationPlanInvalid(PLANS);
    return this.organizations.manager.transaction(async (manager) => {
      const organization = await manager.save(
        Organization,
        manager.create(Organization, { name: name.trim(), plan: plan as Plan }),
      );
      const { apiKey } = await this.issue(organization.id, manager.getRepository(ApiKey));
      return { organizationId: organization.id, apiKey };
    });
  }

  async createKey(organizationId: string): Promise<IssuedKey> {
    const organization = await this.organizations.findOneBy({ id: organizationId });
    if (!organization) throw Errors.notFound('Organization');
    return this.issue(organization.id, this.keys);
  }

  /** Revokes by key id or by the key itself; answers false when nothing matched. */
  async revoke(keyIdOrKey: string): Promise<boolean> {
    const match = KEY_PATTERN.exec(keyIdOrKey);
    const where = match
      ? { prefix: match[1], revokedAt: IsNull() }
      : { id: keyIdOrKey, revokedAt: IsNull() };
    if (!match && !/^[0-9a-f-]{36}$/i.test(keyIdOrKey)) return false;
    const result = await this.keys.update(where, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }

  /** True when `presented` has the shape of a key (only those are looked up). */
  isWellFormed(presented: string): boolean {
    return KEY_PATTERN.test(presented);
  }

  /** The key and its organization, or null for unknown, malformed or revoked keys. */
  async resolve(presented: string): Promise<{ keyId: string; organization: Organization } | null> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return null;
    const key = await this.keys.findOne({
      where: { prefix: match[1] },
      relations: { organization: true },
    });
    const expected = key?.hash ?? Buffer.alloc(32);
    const matches = timingSafeEqual(expected, sha256(presented));
    if (!key || !matches || key.revokedAt) return null;
    return { keyId: key.id, organization: key.organization };
  }

  private async issue(organizationId: string, repository: Repository<ApiKey>): Promise<IssuedKey> {
    const prefix = randomBytes(8).toString('hex');
    const apiKey = `sk_${prefix}_${randomBytes(32).toString('base64url')}`;
    const key = await repository.save(
      repository.create({ organizationId, prefix, hash: sha256(apiKey) }),
    );
    return { keyId: key.id, apiKey };
  }
}
