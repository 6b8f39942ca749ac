import { validateSync } from 'class-validator';
import { MaxUtf16Length } from './max-utf16-length.decorator';

class Reply {
  @MaxUtf16Length(1600)
  body: unknown;
}

const errorsFor = (body: unknown) =>
  validateSync(Object.assign(new Reply(), { body })).map((error) => error.constraints);

describe('MaxUtf16Length', () => {
  it('accepts 1,600 GSM characters and 800 emoji (1,600 code units each)', () => {
    expect(errorsFor('a'.repeat(1600))).toEqual([]);
    expect(errorsFor('😀'.repeat(800))).toEqual([]);
  });

  it('refuses 1,600 emoji (3,200 code units), which MaxLength would let through', () => {
    expect(errorsFor('😀'.repeat(1600))).toEqual([
      {
        maxUtf16Length:
          'body must be at most 1600 characters, counted in UTF-16 code units (most emoji count as 2)',
      },
    ]);
  });

  it('refuses one code unit over the limit', () => {
    expect(errorsFor('a'.repeat(1599) + '😀')).toHaveLength(1);
    expect(errorsFor('a'.repeat(1601))).toHaveLength(1);
  });

  it('leaves a non-string to @IsString', () => {
    expect(errorsFor(42)).toEqual([]);
  });
});
