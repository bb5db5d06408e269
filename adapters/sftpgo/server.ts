/**
 * Which SFTPGo a backend reaches: API v1 in the 0.9.x shape (`permissions` a list) or the 1.x
 * shape (a map), or a server that does not speak API v1 at all (SFTPGo 2.x serves only API v2).
 * Found once, on first use, from `GET /api/v1/version`; remembered per backend; forgotten when an
 * answer shows the other shape (the server was replaced), so the next use finds it again.
 */
import { GatewayError, type CallContext, type UpstreamClient, type UpstreamResponse } from '../../src/provider-kit/index.js';
import { whyApiMissing } from './api-version.js';
import type { V1Shape } from './mapping.js';
import { shapeOf } from './mapping.js';
import { VersionAnswer, isUpstreamUser } from './schema.js';

/** What the server was found to be. */
export interface ServerFacts {
  apiVersion: 'v1';
  /** As its `/version` reports it; null when it reports none the gateway can read. */
  serverVersion: string | null;
  shape: V1Shape;
}

/** How the probe turns a failed GET of `path` into the gateway's error (the adapter's own reading). */
export type Fail = (res: UpstreamResponse, path: string) => GatewayError;

/**
 * The shape a version string means: 0.x is the seed's list, anything from 1.0.0 on the map.
 * @example shapeOfVersion('1.2.2') // 'map'
 */
export function shapeOfVersion(version: string): V1Shape | undefined {
  const major = /^v?(\d+)\./.exec(version.trim())?.[1];
  if (major === undefined) return undefined;
  return Number(major) === 0 ? 'list' : 'map';
}

/** `1.2.2` from a `/version` answer: an object (the server) or an array (the seed); undefined otherwise. */
export function versionOf(body: unknown): string | undefined {
  const parsed = VersionAnswer.safeParse(body);
  if (!parsed.success) return undefined;
  const info = Array.isArray(parsed.data) ? parsed.data[0] : parsed.data;
  return info?.version || undefined;
}

export class ServerProbe {
  private facts: ServerFacts | null = null;
  /** The shape the last user answer showed, while the version is not known. */
  private seenShape: V1Shape | null = null;
  private finding: Promise<ServerFacts> | null = null;

  constructor(
    private readonly client: UpstreamClient,
    private readonly fail: Fail,
    private readonly baseUrl: string,
  ) {}

  /** What is known now, without a call. */
  known(): ServerFacts | null {
    return this.facts;
  }

  /** The shape to assume now: the one found, the one last seen, else 1.x (what servers run). */
  shape(): V1Shape {
    return this.facts?.shape ?? this.seenShape ?? 'map';
  }

  /** The server's facts, found with one call the first time; concurrent callers share it. */
  async ensure(ctx: CallContext): Promise<ServerFacts> {
    if (this.facts) return this.facts;
    this.finding ??= this.find(ctx).finally(() => {
      this.finding = null;
    });
    return this.finding;
  }

  /** Every user answer tells its shape: one that disagrees with what was found means a new server. */
  observe(user: { permissions: unknown }): void {
    const seen = shapeOf(user as Parameters<typeof shapeOf>[0]);
    this.seenShape = seen;
    if (this.facts && this.facts.shape !== seen) {
      this.facts = null; // found again on next use, with its version
    }
  }

  /** Forgets what was found (an upstream refused a body of the remembered shape). */
  forget(): void {
    this.facts = null;
  }

  private async find(ctx: CallContext): Promise<ServerFacts> {
    const res = await this.client.request({ method: 'GET', path: '/api/v1/version' }, ctx);
    if (res.status === 404) throw await this.notApiV1(ctx);
    if (res.status < 200 || res.status >= 300) throw this.fail(res, '/api/v1/version');
    const version = versionOf(res.body) ?? null;
    const shape = (version && shapeOfVersion(version)) || (await this.shapeOfOneUser(ctx));
    this.facts = { apiVersion: 'v1', serverVersion: version, shape };
    this.seenShape = shape;
    return this.facts;
  }

  /** Without a readable version: the shape of one stored user, or 1.x when there is none. */
  private async shapeOfOneUser(ctx: CallContext): Promise<V1Shape> {
    const res = await this.client.request({ method: 'GET', path: '/api/v1/user', query: { limit: 1 } }, ctx);
    if (res.status < 200 || res.status >= 300) throw this.fail(res, '/api/v1/user');
    const [first] = Array.isArray(res.body) ? res.body : [];
    return isUpstreamUser(first) ? shapeOf(first) : 'map';
  }

  /** `/api/v1` is not there: a server that answers under `/api/v2` is SFTPGo 2.x; else the URL is wrong. */
  private async notApiV1(ctx: CallContext): Promise<GatewayError> {
    return (await whyApiMissing(this.client, 'v1', this.baseUrl, ctx, true))!; // never undefined: v1's /version was a 404
  }
}
