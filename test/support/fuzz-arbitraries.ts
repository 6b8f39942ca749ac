/**
 * fast-check arbitraries and helpers for the hostile-input suite (test/hostile-input.e2e-spec.ts):
 * nasty strings (NUL, lone surrogates, BOM, RTL marks, emoji, SQL- and HTML-looking text), values
 * of the wrong JSON type, malformed JSON, junk path ids and query values, and a byte-exact form
 * encoder whose decoding mirrors body-parser's (qs) so hostile webhooks can be validly signed.
 */
import fc from 'fast-check';

/** Characters and fragments that have broken web apps before. */
export const NASTY_PIECES = [
  '\u0000',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\ufeff', // BOM / zero-width no-break space
  '\u200f', // RTL mark
  '\u202e', // RTL override
  '\u200b', // zero-width space
  '\u2028', // line separator
  '\ufffd',
  '\u00a0',
  'e\u0301', // combining accent
  '😀',
  '👩‍👩‍👧‍👦',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'ﷺ',
  'שלום',
  'مرحبا',
  'ＳＴＯＰ',
  'STOP',
  'HELP',
  "' OR '1'='1",
  "'; DROP TABLE chatbots; --",
  '"; SELECT pg_sleep(10); --',
  '\\',
  "\\'",
  '$1',
  '%s%n',
  '%00',
  '%',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  ']]><![CDATA[',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '&amp;&lt;&#0;',
  ':* & | ! <-> ()', // tsquery operators
  '\r\n',
  '\t',
  ' ',
  '',
  'constructor',
  '__proto__',
  'toString',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '../../../../etc/passwd',
  'AC0123456789abcdef0123456789abcdef',
  '+358401234567',
];

const NUL_FREE_PIECES = NASTY_PIECES.filter((piece) => !piece.includes('\u0000'));

const anyCodeUnits = fc.string({ unit: 'binary', maxLength: 12 });

/** Short hostile strings, possibly containing NUL and lone surrogates. */
export const nastyString = (options: { maxPieces?: number; withNul?: boolean } = {}) =>
  fc
    .array(
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            ...(options.withNul === false ? NUL_FREE_PIECES : NASTY_PIECES),
          ),
        },
        { weight: 1, arbitrary: anyCodeUnits },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      ),
      { maxLength: options.maxPieces ?? 6 },
    )
    .map((pieces) => pieces.join(''))
    .map((text) => (options.withNul === false ? text.split('\u0000').join('') : text));

/** A hostile string that certainly contains at least one NUL byte. */
export const stringWithNul = fc
  .tuple(nastyString({ maxPieces: 4 }), fc.nat(64), fc.integer({ min: 1, max: 3 }))
  .map(([text, at, count]) => {
    const position = Math.min(at, text.length);
    return text.slice(0, position) + '\u0000'.repeat(count) + text.slice(position);
  });

/** A value of some JSON type other than string. */
export const nonStringValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), {
    minKeys: 1,
    maxKeys: 3,
  }),
);

/** A value of some JSON type other than boolean. */
export const nonBooleanValue = fc.oneof(
  fc.integer(),
  fc.constantFrom('true', 'false', '1', '0', 'yes', ''),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant([true]),
);

/** Any JSON value, hostile strings included (never NUL: NUL is probed separately). */
export const hostileJsonValue = fc.oneof(
  { weight: 3, arbitrary: nastyString({ withNul: false }) },
  { weight: 2, arbitrary: nonStringValue },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Keys that might confuse object handling. */
export const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    ' ',
    'name ',
    'NAME',
    '$where',
    'a.b',
    'a[b]',
    '0',
    'organizationId',
    'id',
    'chatbotId',
    'createdAt',
  ),
  fc.string({ maxLength: 8 }),
);

/**
 * JSON text of an object, written by hand so keys like `__proto__` survive and lone surrogates
 * are escaped the way JSON.stringify escapes them (`\ud800`).
 */
export function jsonObjectText(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

/** Text that is not JSON, or JSON a strict body parser refuses (top-level primitives). */
export const malformedJsonText = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '{"name":',
    '{"name": }',
    '{"name": "x",}',
    '[1,]',
    "{'name': 'x'}",
    '{name: "x"}',
    '{"name": "x"}{"name": "y"}',
    '{"name": "\\x41"}',
    '{"name": "\\u12"}',
    '{"name": NaN}',
    '{"name": Infinity}',
    '{"name": undefined}',
    '{"name": 0x10}',
    '{"name": 01}',
    '{"a": /regex/}',
    '// comment\n{}',
    'null',
    'true',
    '"string"',
    '123',
    '-',
    '\u0000',
    '{"name":"\u0000"}', // raw NUL inside a string literal: invalid JSON
    '{"name":"a\nb"}', // raw newline inside a string literal: invalid JSON
    '<xml/>',
    'name=x',
    '\ufeff\ufeff{}',
  ),
  // valid JSON, cut short or with a byte spliced in
  fc
    .tuple(
      fc.jsonValue({ maxDepth: 3 }),
      fc.nat(),
      fc.constantFrom('', '}', ']', ',', ':', '"', '\\'),
    )
    .map(([value, cut, junk]) => {
      const text = JSON.stringify({ v: value });
      const at = 1 + (cut % (text.length - 1));
      return text.slice(0, at) + junk;
    })
    .filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }),
  fc.string({ maxLength: 40 }).filter((text) => {
    try {
      const value: unknown = JSON.parse(text);
      return value === null || typeof value !== 'object';
    } catch {
      return true;
    }
  }),
);

/** Raw bytes a client might send as a body. */
export const rawBodyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  nastyString().map((text) => Buffer.from(text, 'utf8')),
  fc.constantFrom(
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16LE BOM + "{}"
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // UTF-8 BOM + "{}"
    Buffer.from('{"name":"\xff\xfe"}', 'latin1'), // invalid UTF-8 inside a string
    Buffer.from('{"name":"\xed\xa0\x80"}', 'latin1'), // CESU-8 lone surrogate
    Buffer.from('<?xml version="1.0"?><chatbot><name>x</name></chatbot>'),
    Buffer.from('name=x&name=y&__proto__[a]=1'),
    Buffer.alloc(0),
  ),
);

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/**
 * Percent-encodes every UTF-8 byte but the unreserved ASCII ones, byte by byte, so it never throws
 * (encodeURIComponent does on a lone surrogate; here it becomes EF BF BD, as Buffer encodes it).
 */
export const percentEncodeBytes = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      byte < 0x80 && UNRESERVED.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** What body-parser's urlencoded (qs, extended:false) decodes a component to. */
function decodeFormComponent(text: string): string {
  const withoutPlus = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(withoutPlus);
  } catch {
    return withoutPlus;
  }
}

/**
 * The params the server will see for a form body, so a test can sign exactly those (keys only
 * from fixed names and [A-Za-z0-9_], never repeated).
 */
export function decodeFormBody(body: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of body.split('&')) {
    if (!part) continue;
    const at = part.indexOf('=');
    const key = decodeFormComponent(at === -1 ? part : part.slice(0, at));
    const value = at === -1 ? '' : decodeFormComponent(part.slice(at + 1));
    if (!key || key === '__proto__') continue;
    params[key] = value;
  }
  return params;
}

/** A form body from [key, value] pairs, every byte percent-encoded. */
export const formBody = (entries: [string, string][]): string =>
  entries
    .map(([key, value]) => `${percentEncodeBytes(key)}=${percentEncodeBytes(value)}`)
    .join('&');

/** What PostgreSQL stores for a JS string sent through the pg driver (UTF-8, lone surrogates → U+FFFD). */
export const asStoredByPostgres = (text: string): string =>
  Buffer.from(text, 'utf8').toString('utf8');

const hex = (length: number) =>
  fc.string({
    unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
    minLength: length,
    maxLength: length,
  });

/** Path ids that are not UUIDs, in the form they go into the URL. */
export const malformedPathId = fc.oneof(
  fc.constantFrom(
    'not-a-uuid',
    '0',
    '-1',
    'null',
    'undefined',
    'true',
    '%20',
    '%00',
    '%zz',
    '%',
    '%E0%A4%A',
    '%ED%A0%80',
    '%FF%FE',
    '%2F..%2F..%2Fetc%2Fpasswd',
    '..%2F',
    '%27%20OR%20%271%27%3D%271',
    '%3Cscript%3E',
    '00000000-0000-0000-0000-00000000000', // one short
    '00000000-0000-0000-0000-0000000000000', // one long
    '{00000000-0000-0000-0000-000000000000}',
    '00000000000000000000000000000000',
    'g0000000-0000-0000-0000-000000000000',
    '00000000-0000-0000-0000-000000000000%00',
    '00000000%2D0000%2D0000%2D0000%2D000000000000x',
    'a'.repeat(4000),
    '%41'.repeat(1000),
  ),
  nastyString()
    .filter((text) => text.length > 0)
    .map(percentEncodeBytes),
  fc
    .string({
      unit: fc.constantFrom(...'0123456789abcdefABCDEFxyz%-'),
      minLength: 1,
      maxLength: 60,
    })
    .filter(
      (text) =>
        !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text),
    ),
);

/** Well-formed UUIDs (any version, any case, nil and max included) that name nothing. */
export const unknownUuid = fc.oneof(
  fc.uuid(),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-')),
);

const digits = (min: number, max: number) => fc.integer({ min, max }).map((value) => String(value));

/** Cursor values: random text, and base64url of near-valid `<timestamp>|<uuid>` payloads. */
export const hostileCursor = fc.oneof(
  nastyString(),
  fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_=+/.'), maxLength: 260 }),
  fc
    .tuple(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        fc
          .tuple(
            digits(0, 99999),
            digits(0, 19),
            digits(0, 39),
            digits(0, 29),
            digits(0, 69),
            digits(0, 69),
            fc.constantFrom('', '.1', '.123456', '.1234567', '.999999'),
            fc.constantFrom('Z', '+00:00', '', 'z'),
          )
          .map(
            ([y, mo, d, h, mi, s, frac, zone]) =>
              `${y.padStart(4, '0')}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}T${h.padStart(2, '0')}:${mi.padStart(2, '0')}:${s.padStart(2, '0')}${frac}${zone}`,
          ),
        nastyString(),
      ),
      fc.oneof(unknownUuid, nastyString()),
      fc.constantFrom('|', '||', ''),
    )
    .map(([at, id, separator]) =>
      Buffer.from(`${at}${separator}${id}`, 'utf8').toString('base64url'),
    ),
);

/** `limit` values. */
export const hostileLimit = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    ' ',
    '1e1',
    '1e309',
    '-0',
    '0x10',
    '0b11',
    '1.5',
    'Infinity',
    '-Infinity',
    'NaN',
    '9007199254740993',
    '99999999999999999999999',
    '10abc',
    ' 10 ',
    'null',
    '[]',
    '%00',
  ),
  nastyString(),
);
