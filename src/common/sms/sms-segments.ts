export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** How many SMS parts the carrier bills for. */
  segments: number;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

// GSM 03.38 default alphabet, in table order. The ESC slot (0x1B) is deliberately left out:
// it is the prefix of the extension table, not a character a user can type, so a literal
// U+001B in a body cannot be sent as GSM-7 text and must force UCS-2.
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';

// Extension table: each is sent as ESC + char, hence 2 septets.
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const GSM7_BASIC_SET: ReadonlySet<string> = new Set(GSM7_BASIC);
const GSM7_EXTENSION_SET: ReadonlySet<string> = new Set(GSM7_EXTENSION);

const GSM7_SINGLE_LIMIT = 160;
// 7 septets of every part go to the concatenation header (UDH).
const GSM7_MULTI_LIMIT = 153;
const UCS2_SINGLE_LIMIT = 70;
// 3 UCS-2 code units of every part go to the concatenation header (UDH).
const UCS2_MULTI_LIMIT = 67;

/** Septets for one GSM-7 character, or null when the character is not in GSM-7. */
function gsm7Units(char: string): 1 | 2 | null {
  if (GSM7_BASIC_SET.has(char)) return 1;
  if (GSM7_EXTENSION_SET.has(char)) return 2;
  return null;
}

/**
 * Greedy packing instead of `ceil(units / perSegment)`: an escape sequence (GSM-7) or a
 * surrogate pair (UCS-2) is never split across two parts, so a part can end one unit short
 * and the naive division would under-count.
 */
function packSegments(charUnits: readonly number[], perSegment: number): number {
  let segments = 1;
  let used = 0;
  for (const size of charUnits) {
    if (used + size > perSegment) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}

/**
 * Counts the SMS parts a body will be billed as, the way Twilio does.
 *
 * An empty body still counts as 1 segment: Twilio bills (and carriers deliver) an empty
 * message as one SMS, so reporting 0 would under-estimate cost.
 */
export function countSegments(body: string): SmsSegmentCount {
  // `for...of` walks code points, keeping surrogate pairs together; a lone surrogate comes
  // out as a 1-unit string, so malformed input is counted rather than thrown on.
  const chars = Array.from(body);

  const gsmUnits: number[] = [];
  let isGsm = true;
  for (const char of chars) {
    const size = gsm7Units(char);
    if (size === null) {
      isGsm = false;
      break;
    }
    gsmUnits.push(size);
  }

  if (isGsm) {
    const units = gsmUnits.reduce((sum, size) => sum + size, 0);
    const segments = units <= GSM7_SINGLE_LIMIT ? 1 : packSegments(gsmUnits, GSM7_MULTI_LIMIT);
    return { encoding: 'GSM-7', segments, units };
  }

  const units = body.length;
  const segments =
    units <= UCS2_SINGLE_LIMIT
      ? 1
      : packSegments(
          chars.map((char) => char.length),
          UCS2_MULTI_LIMIT,
        );
  return { encoding: 'UCS-2', segments, units };
}
