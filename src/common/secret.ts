import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A plaintext secret in memory. It refuses to be printed or serialised by accident: logs, JSON
 * responses and error reports see `[REDACTED]`; only reveal() hands out the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
