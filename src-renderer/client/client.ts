import {
  contract,
  eventNames,
  events,
  methodNames,
  type ErrorCode,
  type EventName,
  type EventPayload,
  type Method,
  type Service,
} from '../../src-main/service/contract.ts';
import type { Transport } from './transport.ts';

/** A failed call: the service's envelope error (or a transport/contract failure), meant for the user. */
export class ServiceCallError extends Error {
  constructor(
    readonly method: Method,
    readonly code: ErrorCode | 'bad-response',
    message: string,
  ) {
    super(message);
    this.name = 'ServiceCallError';
  }
}

export type Subscribe = <E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) => () => void;
export type Client = Service & { subscribe: Subscribe };

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : 'value'}: ${issue.message}`)
    .join('; ');
}

/**
 * The renderer's view of the service, derived from the contract: one function per method name, each
 * checking its request before sending and its response on arrival. Errors reject with ServiceCallError.
 */
export function createClient(transport: Transport): Client {
  const call = async (method: Method, request: unknown): Promise<unknown> => {
    const checked = contract[method].request.safeParse(request ?? {});
    if (!checked.success) throw new ServiceCallError(method, 'bad-request', `${method}: ${describeIssues(checked.error.issues)}`);
    const envelope = await transport.invoke(method, checked.data);
    if (!envelope.ok) throw new ServiceCallError(method, envelope.error.code, envelope.error.message);
    const value = contract[method].response.safeParse(envelope.value);
    if (!value.success) {
      throw new ServiceCallError(method, 'bad-response', `${method}: the service's answer does not match the contract (${describeIssues(value.error.issues)})`);
    }
    return value.data;
  };

  const service = Object.fromEntries(methodNames.map((method) => [method, (request: unknown) => call(method, request)])) as Service;

  const subscribe: Subscribe = (name, listener) =>
    transport.onEvent((eventName, payload) => {
      if (eventName !== name || !eventNames.includes(name)) return;
      const parsed = events[name].safeParse(payload);
      if (parsed.success) listener(parsed.data as EventPayload<typeof name>);
      else console.warn(`[episteme] ignored a malformed ${name} event: ${describeIssues(parsed.error.issues)}`);
    });

  return Object.assign(service, { subscribe });
}

/** A message for the user from anything a call can throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ServiceCallError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
