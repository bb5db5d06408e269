/** What the gateway reports of an SFTPGo server: its health, and the version it was found to run. */
import {
  GatewayError, scrub, upstreamMessage, type CallContext, type HealthResult, type ServerInfo,
} from '../../src/provider-kit/index.js';
import { API, fetchUserPage, type SftpgoBackend } from './backend.js';
import { ApiResponse } from './schema.js';

/**
 * Finds the server again (its version and shape), asks its data provider, and reads one user:
 * a server whose users the gateway cannot read is not healthy. Never throws.
 */
export async function health(b: SftpgoBackend, ctx: CallContext): Promise<HealthResult> {
  try {
    b.probe.forget();
    const facts = await b.probe.ensure(ctx);
    const name = `SFTPGo ${facts.serverVersion ?? '(version unknown)'}, API v1 (${facts.shape === 'map' ? '1.x' : '0.9.x'} shape)`;
    const status = await b.client.request({ method: 'GET', path: `${API}/providerstatus` }, ctx);
    if (status.status !== 200) {
      const message = scrub(upstreamMessage(status.body), b.credentials);
      return { ok: false, detail: `${name}; data provider: ${message || `HTTP ${status.status}`}` };
    }
    const said = ApiResponse.safeParse(status.body).data?.message || 'Alive';
    await fetchUserPage(b, { limit: 1, offset: 0, order: 'asc' }, 0, 1, ctx);
    return { ok: true, detail: `${name}; data provider: ${said}; users readable` };
  } catch (err) {
    return { ok: false, detail: err instanceof GatewayError ? err.detail : 'health check failed' };
  }
}

/** What is known of the server now, without a call (nulls until it is found). */
export function server(b: SftpgoBackend): ServerInfo {
  const facts = b.probe.known();
  return { apiVersion: facts?.apiVersion ?? null, serverVersion: facts?.serverVersion ?? null };
}
