export const PREVIEW_LENGTH = 140;

/**
 * The inbox list's one-line preview of a message: whitespace runs (newlines included) collapsed,
 * at most 140 characters, never cutting an emoji's surrogate pair in half.
 */
export function messagePreview(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return Array.from(oneLine).slice(0, PREVIEW_LENGTH).join('');
}
