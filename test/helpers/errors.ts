/** Capturing the GatewayError a call fails with, to assert on its status, code and message. */
import { GatewayError } from '../../src/domain/errors.js';

/** The GatewayError a promise rejects with (anything else fails the test). */
export async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(err)}`);
  return err;
}

/** Runs `fn` and returns the GatewayError it throws (anything else fails the test). */
export function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}
