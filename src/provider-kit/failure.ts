/**
 * What every adapter does with an upstream failure, in one place (STYLE habit 4): the adapter
 * names its provider and what its own credentials are; the statuses mean the same everywhere.
 */
import type { output, ZodType } from 'zod';
import { ConfigError } from '../domain/errors.js';
import {
  GatewayError, conflict, notFound, rateLimited, unsupportedField, upstreamError, type FieldError,
} from '../domain/errors.js';
import { upstreamMessage, type UpstreamRequest, type UpstreamResponse } from '../reliability/upstream.js';

/** How one call wants its failures read, beyond the common rules. */
export interface FailureOptions {
  /** The 404 detail for a call on one resource; without it a 404 means the API is not where configured. */
  notFound?: string;
  /** Secrets in this call (passwords): scrubbed from any upstream message echoed in an error. */
  secrets?: string[];
  /** A call-specific reading of a failure, tried first (e.g. "already exists" → 409). */
  special?: (res: UpstreamResponse, message: string) => GatewayError | undefined;
}

/** What an adapter says about its provider in errors. */
export interface ProviderVoice {
  /** e.g. "SFTPGo" */
  label: string;
  /** The detail for a 401 or 403: the gateway's OWN credentials are wrong, and which setting to check. */
  credentialsRejected(status: 401 | 403, call: string): string;
  /** The detail for a 404 on a collection: the configured base URL is wrong. */
  notWhereConfigured(call: string): string;
}

/** `scheme://user:secret@` anywhere in a text. */
const URI_USERINFO_SECRET = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi;

/**
 * Removes the password part of every URL in a text (SFTP To Go's `URI` is `sftp://USER:PASSWORD@HOST`).
 * @example withoutUriPassword('sftp://u:secret@h.example') // 'sftp://u@h.example'
 */
export function withoutUriPassword(text: string): string {
  return text.replace(URI_USERINFO_SECRET, '$1@');
}

/**
 * Replaces every secret in an upstream message, and any password inside a URL. Very short
 * secrets are left: they would mangle the text, not hide anything.
 * @example scrub('bad key abcd1234 for sftp://u:pw@h', ['abcd1234']) // 'bad key [redacted] for sftp://u@h'
 */
export function scrub(message: string, secrets: readonly string[]): string {
  const cut = secrets.reduce((text, s) => (s.length >= 4 ? text.replaceAll(s, '[redacted]') : text), message);
  return withoutUriPassword(cut);
}

/**
 * An upstream failure → the gateway's error (CONTRACT §4). The caller never gets a 401 for the
 * gateway's own credentials, nor a credential, nor a password.
 */
export function interpretFailure(
  voice: ProviderVoice,
  res: UpstreamResponse,
  req: UpstreamRequest,
  opts: FailureOptions,
  secrets: readonly string[],
): GatewayError {
  const message = scrub(upstreamMessage(res.body), [...secrets, ...(opts.secrets ?? [])]);
  const special = opts.special?.(res, message);
  if (special) return special;
  const said = message ? `: ${message}` : '';
  const { status } = res;
  const call = `${req.method} ${req.path}`;
  if (status === 401 || status === 403) return upstreamError(voice.credentialsRejected(status, call));
  if (status === 404) return opts.notFound !== undefined ? notFound(opts.notFound) : upstreamError(voice.notWhereConfigured(call));
  if (status === 409) return conflict(`${voice.label} refused the change${said}`);
  if (status === 429) {
    return rateLimited(`${voice.label} is rate limiting the gateway${said}`, res.headers.get('retry-after') ?? undefined);
  }
  // Every body the upstream gets is one the gateway built from a request it had already checked:
  // a refusal the adapter did not read as the caller's (above, or in `special`) is the gateway's
  // or the upstream's doing, never the caller's 400.
  if (status >= 400 && status < 500) return upstreamError(`${voice.label} refused the request the gateway built (${status} on ${call})${said}`);
  if (status >= 500) return upstreamError(`${voice.label} answered ${status}${said}`);
  return upstreamError(`${voice.label} answered an unexpected ${status} to ${call}`);
}

/** Collects 422 field problems, so one answer names all of them. */
export class UnsupportedFields {
  readonly errors: FieldError[] = [];
  details: Record<string, unknown> | undefined;

  constructor(private readonly label: string) {}

  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const detail = `${this.label} cannot represent this request: ${this.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
    throw unsupportedField(detail, this.details, this.errors);
  }
}

/**
 * A backend config checked again by its adapter's factory, so an adapter built by hand (tests,
 * demo) fails at once, naming the field, not on its first call.
 */
export function checkBackendConfig<T>(schema: ZodType<T>, config: unknown, backend: string): T {
  const result = schema.safeParse(config);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ConfigError(['backends', backend, ...issue.path.map(String)].join('.'), issue.message);
}

/**
 * Parses a 2xx body, or throws 502 `upstream_error` naming what was expected and the first
 * problem (its path and zod's message: never the offending value, which could be a secret).
 *
 * @example parseAnswer('SFTPGo', UpstreamUser, res.body, 'a user', 200) // "SFTPGo answered 200 with a body that is not a user (home_dir: …)"
 */
export function parseAnswer<T extends ZodType>(provider: string, schema: T, body: unknown, what: string, status: number): output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue ? ` (${issue.path.map(String).join('.') || 'body'}: ${issue.message})` : '';
  throw upstreamError(`${provider} answered ${status} with a body that is not ${what}${where}`);
}

/**
 * A list answer checked item by item with `isItem`, which accepts exactly what `schema`'s items
 * accept: the parsed objects themselves, without the copy zod makes of each (a page of users
 * cost as much as its JSON.parse). `schema` runs only to word the 502 of a list that fails.
 */
export function parseAnswerList<T>(
  provider: string, isItem: (v: unknown) => v is T, schema: ZodType<T[]>, body: unknown, what: string, status: number,
): T[] {
  if (Array.isArray(body) && body.every(isItem)) return body;
  return parseAnswer(provider, schema, body, what, status);
}
