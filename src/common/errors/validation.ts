import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError } from './domain-error';
import { FieldError } from './error-codes';

/** Flattens class-validator's tree into the contract's `details: [{field, message}]`. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return own.concat(toFieldErrors(error.children ?? [], field));
  });
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    // A constraint message names the field already; one message per field is enough to fix it.
    stopAtFirstError: true,
    exceptionFactory: (errors) =>
      new DomainError('VALIDATION_FAILED', 'Request validation failed', toFieldErrors(errors)),
  });
}
