import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from './error-codes';
import { Errors } from './errors';

/** Type checks first: for `{"name": 42}`, "must be a string" is the message that helps. */
const PRECEDENCE = [
  'whitelistValidation',
  'isString',
  'isBoolean',
  'isInt',
  'isArray',
  'isIn',
  'nestedValidation',
];
const rank = (constraint: string): number => {
  const index = PRECEDENCE.indexOf(constraint);
  return index === -1 ? PRECEDENCE.length : index;
};

/** Flattens class-validator's tree into the contract's `details: [{field, message}]`, one per field. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const [first] = Object.entries(error.constraints ?? {}).sort(([a], [b]) => rank(a) - rank(b));
    const own = first ? [{ field, message: first[1] }] : [];
    return own.concat(toFieldErrors(error.children ?? [], field));
  });
}

/** PostgreSQL text cannot hold U+0000: name every string field that carries one. */
export function nulFields(value: unknown, parent = '', depth = 0): FieldError[] {
  if (typeof value === 'string')
    return value.includes('\u0000')
      ? [{ field: parent, message: `${parent} must not contain NUL (\\u0000) characters` }]
      : [];
  if (!value || typeof value !== 'object' || depth > 32) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    nulFields(child, parent ? `${parent}.${key}` : key, depth + 1),
  );
}

class ApiValidationPipe extends ValidationPipe {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // DTO bodies and queries only: the Twilio webhook's plain-object body is sanitised where it
    // is stored, so a customer's message is never refused for a stray NUL.
    if (metadata.metatype && metadata.metatype !== Object && metadata.type !== 'custom') {
      const fields = nulFields(value);
      if (fields.length) throw Errors.validationFailed(fields);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    // A constraint message names the field already; one message per field is enough to fix it.
    stopAtFirstError: false,
    exceptionFactory: (errors) => Errors.validationFailed(toFieldErrors(errors)),
  });
}
