/** Turns any error into the contract's problem+json answer (CONTRACT §4). */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { GatewayError } from '../domain/errors.js';
import type { GatewayEnv } from './request-vars.js';

const PROBLEM_TYPE_BASE = 'https://sftp-gateway.dev/problems/';

/** What HTTP-level failures raised by Hono's own middleware mean in our vocabulary. */
function fromHttpException(err: HTTPException): GatewayError {
  switch (err.status) {
    case 400:
      return new GatewayError(400, 'invalid_request', /json/i.test(err.message) ? 'Malformed JSON in request body' : err.message || 'Bad request');
    case 413:
      return new GatewayError(413, 'payload_too_large', 'The request body is larger than 1 MiB');
    case 415:
      return new GatewayError(415, 'unsupported_media_type', 'Send the body as application/json');
    default:
      return new GatewayError(err.status, err.status >= 500 ? 'internal_error' : 'invalid_request', err.message || 'Request failed');
  }
}

export function toGatewayError(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  return undefined;
}

export function problemResponse(c: Context<GatewayEnv>, err: GatewayError): Response {
  const body = {
    type: PROBLEM_TYPE_BASE + err.code,
    title: err.title,
    status: err.status,
    detail: err.detail,
    code: err.code,
    requestId: c.get('requestId') ?? '',
    ...(c.get('backend') ? { backend: c.get('backend').name } : {}),
    ...(err.extra.errors?.length ? { errors: err.extra.errors } : {}),
    ...(err.extra.details ? { details: err.extra.details } : {}),
  };
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    ...err.extra.headers,
  };
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="sftp-gateway"';
  // Through the context, as every answer; the pipeline adds X-Request-Id to it (src/http/pipeline.ts).
  return c.body(JSON.stringify(body), err.status as 400, headers);
}
