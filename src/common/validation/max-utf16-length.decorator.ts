import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A string of at most `max` UTF-16 code units (`string.length`), the unit the SMS limits are
 * counted in (Twilio refuses a body over 1,600 with 21617; an emoji outside the Basic
 * Multilingual Plane is two). class-validator's MaxLength counts a surrogate pair as one
 * character, so 1,600 emoji would pass it. Non-strings are left to @IsString.
 */
export const MaxUtf16Length = (max: number, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'maxUtf16Length',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || value.length <= max,
        defaultMessage: (args) =>
          `${args?.property} must be at most ${max} characters, counted in UTF-16 code units (most emoji count as 2)`,
      },
    },
    options,
  );
