/**
 * Every failure the gateway answers with is a GatewayError: adapters interpret upstream statuses
 * and throw these; one handler at the edge turns them into problem+json (CONTRACT §4).
 */
export type ErrorCode =
  | 'invalid_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'payload_too_large'
  | 'unsupported_media_type' | 'not_supported_by_provider' | 'rate_limited' | 'upstream_error'
  | 'upstream_unavailable' | 'upstream_timeout' | 'internal_error' | 'invalid_configuration'
  | 'method_not_allowed' | 'idempotency_key_reused';

const TITLES: Record<ErrorCode, string> = {
  invalid_request: 'Invalid request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  not_supported_by_provider: 'Not supported by provider',
  rate_limited: 'Rate limited',
  upstream_error: 'Upstream error',
  upstream_unavailable: 'Upstream unavailable',
  upstream_timeout: 'Upstream timeout',
  internal_error: 'Internal error',
  invalid_configuration: 'Invalid configuration',
  method_not_allowed: 'Method not allowed',
  idempotency_key_reused: 'Idempotency key reused',
};

export interface FieldError {
  path: string;
  message: string;
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      errors?: FieldError[];
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.name = 'GatewayError';
  }

  get title(): string {
    return TITLES[this.code];
  }
}

export const invalidRequest = (detail: string, errors?: FieldError[]) =>
  new GatewayError(400, 'invalid_request', detail, { errors });
export const notFound = (detail: string) => new GatewayError(404, 'not_found', detail);
export const conflict = (detail: string) => new GatewayError(409, 'conflict', detail);
/** A field (422) or a whole endpoint (501) this provider cannot represent. */
export const unsupportedField = (detail: string, details?: Record<string, unknown>, errors?: FieldError[]) =>
  new GatewayError(422, 'not_supported_by_provider', detail, { details, errors });
export const unsupportedEndpoint = (detail: string) => new GatewayError(501, 'not_supported_by_provider', detail);
export const upstreamError = (detail: string) => new GatewayError(502, 'upstream_error', detail);
export const upstreamUnavailable = (detail: string) => new GatewayError(503, 'upstream_unavailable', detail);
export const upstreamTimeout = (detail: string) => new GatewayError(504, 'upstream_timeout', detail);
export const rateLimited = (detail: string, retryAfter?: string) =>
  new GatewayError(429, 'rate_limited', detail, { headers: retryAfter ? { 'Retry-After': retryAfter } : {} });

/** A bad config file or environment: names the field (`backends.onprem.baseUrl`), never its value. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field ? `invalid configuration: ${field}: ${message}` : `invalid configuration: ${message}`);
    this.name = 'ConfigError';
  }
}
