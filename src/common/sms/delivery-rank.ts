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
