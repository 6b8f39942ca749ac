/** PostgreSQL's answers a caller decides on, recognised by their SQLSTATE. */
import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';

/** A statement broke a unique constraint (e.g. two connects of one number at once). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof QueryFailedError && (error as { code?: string }).code === UNIQUE_VIOLATION;
