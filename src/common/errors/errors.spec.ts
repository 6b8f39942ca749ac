import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERROR_EXAMPLES } from './api-errors.decorator';
import { DomainError } from './domain-error';
import { ERROR_STATUS, ErrorCode, REPORTED_CODES } from './error-codes';
import { Errors } from './errors';

const SRC = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the error catalogue (errors.ts)', () => {
  it('is the only place a DomainError is built with its message: throw sites call it', () => {
    const elsewhere = sourceFiles(SRC)
      .filter((path) => !path.endsWith(join('common', 'errors', 'errors.ts')))
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(SRC, path)}:${i + 1}` }))
          .filter(({ line }) => /new (DomainError|RateLimitedError)\(/.test(line))
          .map(({ at }) => at),
      );
    expect(elsewhere).toEqual([]);
  });

  it('gives Swagger one example per code, each answering with its own code and status', () => {
    for (const [code, example] of Object.entries(ERROR_EXAMPLES)) {
      expect(example.toBody()).toMatchObject({
        code,
        statusCode: ERROR_STATUS[code as ErrorCode],
        message: example.publicMessage,
      });
    }
    expect(Object.keys(ERROR_EXAMPLES).sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });

  it('keeps the contract’s fixed messages word for word', () => {
    expect(Errors.twilioCredentialsRejected().toBody()).toEqual({
      statusCode: 422,
      code: 'TWILIO_CREDENTIALS_REJECTED',
      message: 'Twilio rejected the credentials',
    });
    expect(Errors.twilioNumberNotOwned().message).toBe(
      "The phone number you entered doesn't belong to this Twilio account",
    );
    expect(Errors.planUpgradeRequired('free').message).toBe(
      'The SMS channel needs the Starter plan or above; this organization is on free',
    );
  });
});

describe('DomainError', () => {
  it('answers a code the API never answers with as a plain 500, its message kept for the logs', () => {
    for (const code of REPORTED_CODES) {
      const error = new (class extends DomainError {
        constructor() {
          super(code, `internal detail of ${code}`);
        }
      })();
      expect(error.httpStatus).toBe(500);
      expect(error.toBody()).toEqual({
        statusCode: 500,
        code: 'INTERNAL_ERROR',
        message: 'Internal server error',
      });
      expect(error.message).toBe(`internal detail of ${code}`);
    }
  });

  it("is named by its class, so logs and Sentry tell a subclass's errors apart", () => {
    class ChannelWentAway extends DomainError {
      constructor() {
        super('SERVICE_UNAVAILABLE', 'gone');
      }
    }
    expect(new ChannelWentAway().name).toBe('ChannelWentAway');
    expect(Errors.notFound('Chatbot').name).toBe('DomainError');
  });
});
