import { messagePreview, PREVIEW_LENGTH } from './message-preview';

describe('messagePreview', () => {
  it('keeps a short body as it is', () => {
    expect(messagePreview('Your order ships today.')).toBe('Your order ships today.');
  });

  it('folds newlines and runs of spaces into one line', () => {
    expect(messagePreview('  Hello,\n\nyour order\tships  today. ')).toBe(
      'Hello, your order ships today.',
    );
  });

  it(`cuts at ${PREVIEW_LENGTH} characters`, () => {
    expect(messagePreview('a'.repeat(500))).toBe('a'.repeat(PREVIEW_LENGTH));
  });

  it('never splits a surrogate pair', () => {
    const preview = messagePreview('😀'.repeat(200));
    expect(Array.from(preview)).toHaveLength(PREVIEW_LENGTH);
    expect(preview).toBe('😀'.repeat(PREVIEW_LENGTH));
  });
});
