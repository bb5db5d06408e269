/**
 * Which REST API an SFTPGo server speaks: v1 (SFTPGo 0.9.x and 1.x) or v2 (SFTPGo 2.x, which
 * serves only API v2). Each answers its own `/version` path and a router 404
 * (`{"message":"Not Found"}`) on the other's (reference/sftpgo-2.7.5-recorded/v1-version-path-on-v2.txt).
 */
import {
  GatewayError, isJsonObject, upstreamError, type CallContext, type ProviderAdapter, type UpstreamClient,
} from '../../src/provider-kit/index.js';

export type ApiVersion = 'v1' | 'v2';

/** An adapter of one API version, which can tell whether the server speaks it. */
export interface VersionedAdapter extends ProviderAdapter {
  /** Finds the server (one call the first time); throws OtherApiVersion when it speaks the other API. */
  identify(ctx: CallContext): Promise<void>;
}

const SPOKEN: Record<ApiVersion, string> = {
  v1: 'REST API v1 (SFTPGo 0.9.x or 1.x)',
  v2: 'REST API v2 (SFTPGo 2.x)',
};
const HOW_TO_REACH: Record<ApiVersion, string> = {
  v1: 'set the backend\'s apiVersion to "v1" or "auto", with username and password if the server asks for them',
  v2: 'set the backend\'s apiVersion to "v2" or "auto", with an apiKey or username and password',
};

/**
 * The server at a backend's baseUrl speaks the other API than the one the gateway spoke to it.
 * A backend pinned to one version answers it as a 502; `auto` takes it as the version found.
 */
export class OtherApiVersion extends GatewayError {
  constructor(readonly speaks: ApiVersion, baseUrl: string) {
    const spoken = speaks === 'v1' ? 'v2' : 'v1';
    super(502, 'upstream_error', `the SFTPGo server at ${baseUrl} speaks ${SPOKEN[speaks]}, not API ${spoken}: ${HOW_TO_REACH[speaks]}`);
    this.name = 'OtherApiVersion';
  }
}

/** Neither API is there: the URL is not an SFTPGo server root. */
const noApiAt = (baseUrl: string): GatewayError =>
  upstreamError(`no SFTPGo REST API at ${baseUrl} (404 on /api/v1/version and /api/v2/version): is the backend's baseUrl the server root?`);

/** Whether the server knows `version`'s `/version` path (any answer but a 404: 2.x answers 401 without a token). */
async function answersAt(client: UpstreamClient, version: ApiVersion, ctx: CallContext): Promise<boolean> {
  const res = await client.request({ method: 'GET', path: `/api/${version}/version` }, ctx).catch(() => null);
  return res !== null && res.status !== 404;
}

/**
 * Why a backend speaking `expected` met a router's 404 where its API should be: the server speaks
 * the other API, or none (not an SFTPGo server root). Undefined when `expected` is there after
 * all (the path was what is missing); `expectedSeen404`: its `/version` was just a 404, so it is
 * not asked again. An unreachable server reads as not answering.
 */
export async function whyApiMissing(
  client: UpstreamClient, expected: ApiVersion, baseUrl: string, ctx: CallContext, expectedSeen404 = false,
): Promise<GatewayError | undefined> {
  const other: ApiVersion = expected === 'v1' ? 'v2' : 'v1';
  if (await answersAt(client, other, ctx)) return new OtherApiVersion(other, baseUrl);
  if (!expectedSeen404 && (await answersAt(client, expected, ctx))) return undefined;
  return noApiAt(baseUrl);
}

/** SFTPGo's own "not found" of a user carries an `error` text; a router's 404 does not. */
export function isRouterNotFound(body: unknown): boolean {
  return !(isJsonObject(body) && typeof body.error === 'string' && body.error !== '');
}
