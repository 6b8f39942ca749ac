/**
 * What the API-key guard asks of whoever keeps the keys (the organizations module provides it):
 * the guard sits below the modules and knows no table.
 */

/** The organization a key belongs to, as the dashboard's routes see it. */
export interface AuthenticatedOrganization {
  id: string;
  name: string;
  plan: string;
}

export abstract class ApiKeyResolver {
  /** Shaped like one of our keys: only those cost a lookup (and count as failed attempts). */
  abstract isWellFormed(presented: string): boolean;

  /** The key and its organization, or null for unknown, malformed or revoked keys. */
  abstract resolve(
    presented: string,
  ): Promise<{ keyId: string; organization: AuthenticatedOrganization } | null>;
}
