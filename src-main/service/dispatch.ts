import { ZodError } from 'zod';
import { contract, isMethod, type Envelope, type ErrorCode, type Service } from './contract.ts';

/** An error whose message is meant for the user; anything else is reported as internal. */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'payload'}: ${issue.message}`)
    .join('; ');
}

/**
 * The one entry point of every transport: the method name and payload arrive as `unknown`, are checked
 * against the contract, and the result comes back in an envelope. Never throws.
 */
export async function dispatch(service: Service, method: unknown, payload: unknown): Promise<Envelope<unknown>> {
  if (!isMethod(method)) return { ok: false, error: { code: 'bad-request', message: `unknown method ${JSON.stringify(String(method)).slice(0, 80)}` } };
  // Only a missing payload means "no fields"; null, arrays and scalars are refused by the schema.
  const parsed = contract[method].request.safeParse(payload === undefined ? {} : payload);
  if (!parsed.success) return { ok: false, error: { code: 'bad-request', message: `${method}: ${describeZodError(parsed.error)}` } };
  try {
    const handler = service[method] as (request: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data) };
  } catch (error) {
    if (error instanceof ServiceError) return { ok: false, error: { code: error.code, message: error.message } };
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[episteme] ${method} failed:`, error);
    return { ok: false, error: { code: 'internal', message } };
  }
}
