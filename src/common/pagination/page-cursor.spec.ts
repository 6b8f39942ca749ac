import { decodeCursor, encodeCursor } from './page-cursor';

describe('page cursor', () => {
  const cursor = {
    at: '2025-11-25T14:03:07.123456Z',
    id: '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10',
  };

  it('round-trips and keeps microseconds', () => {
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$def'],
    ['padding', `${encodeCursor(cursor)}=`],
    ['no separator', Buffer.from('2025-11-25T14:03:07Z').toString('base64url')],
    ['bad time', Buffer.from(`yesterday|${cursor.id}`).toString('base64url')],
    ['impossible date', Buffer.from(`2025-13-45T14:03:07Z|${cursor.id}`).toString('base64url')],
    ['rolled-over date', Buffer.from(`2025-02-30T14:03:07Z|${cursor.id}`).toString('base64url')],
    ['year zero', Buffer.from(`0000-01-01T00:00:00Z|${cursor.id}`).toString('base64url')],
    ['bad id', Buffer.from(`${cursor.at}|42`).toString('base64url')],
    ['extra part', Buffer.from(`${cursor.at}|${cursor.id}|x`).toString('base64url')],
    ['too long', 'A'.repeat(500)],
  ])('rejects %s', (_case, text) => {
    expect(decodeCursor(text)).toBeNull();
  });
});
