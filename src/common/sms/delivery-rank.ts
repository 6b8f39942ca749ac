/**
 * Delivery states in the order they can advance; a callback may only move a message forward
 * (`deliveryRank`), so late or repeated callbacks never undo "delivered".
 */
export const DELIVERY_RANK: Record<string, number> = {
  received: 0,
  pending: 1,
  sending: 2,
  accepted: 3,
  scheduled: 3,
  queued: 4,
  sent: 5,
  delivered: 6,
  undelivered: 6,
  failed: 6,
  canceled: 6,
  read: 7,
};

/** A status's rank; undefined for a status Twilio does not document (own keys only: "constructor" finds nothing). */
export const deliveryRankOf = (status: string): number | undefined =>
  Object.hasOwn(DELIVERY_RANK, status) ? DELIVERY_RANK[status] : undefined;
