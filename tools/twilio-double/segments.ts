/**
 * SMS segment counting as Twilio bills it (see ../shared/twilio/README.md),
 * so `num_segments` in the double's answers is something tests can assert on.
 */

// GSM 03.38 basic character set (ESC, 0x1B, is not a printable member).
const GSM7_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
// Extension table: each costs an escape plus the character, i.e. two septets.
const GSM7_EXTENSION = new Set(Array.from('\f^{}\\[]~|€'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: SmsEncoding;
  segments: number;
}

export function countSegments(body: string): SegmentInfo {
  const chars = Array.from(body);
  const gsm = chars.every((c) => GSM7_BASIC.has(c) || GSM7_EXTENSION.has(c));
  // Per-character cost in septets (GSM-7) or UTF-16 code units (UCS-2).
  const costs = chars.map((c) => (gsm ? (GSM7_EXTENSION.has(c) ? 2 : 1) : c.length));
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  const total = costs.reduce((a, b) => a + b, 0);
  if (total <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments: 1 };
  // Escape pairs and surrogate pairs are never split across segments, so fill
  // greedily instead of dividing: that can cost an extra segment.
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments };
}
