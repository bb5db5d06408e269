/** What the gateway reports of an SFTPGo 2.x server: its health, and the version it was found to run. */
import {
  GatewayError, isJsonObject, type CallContext, type HealthResult, type ServerInfo,
} from '../../src/provider-kit/index.js';
import { ensureServerV2, sendV2, type SftpgoV2Backend } from './v2-backend.js';

/**
 * Finds the server again (its version, which also proves the credentials), asks its data
 * provider (`GET /api/v2/status`), and reads one user: a server whose users the gateway cannot
 * read is not healthy. Never throws.
 */
export async function healthV2(b: SftpgoV2Backend, ctx: CallContext): Promise<HealthResult> {
  try {
    b.server.facts = null;
    const facts = await ensureServerV2(b, ctx);
    const name = `SFTPGo ${facts.serverVersion ?? '(version unknown)'}, API v2`;
    const status = await sendV2(b, { method: 'GET', path: '/status' }, ctx);
    const provider = isJsonObject(status.body) && isJsonObject(status.body.data_provider) ? status.body.data_provider : {};
    const driver = typeof provider.driver === 'string' && provider.driver !== '' ? provider.driver : 'unknown';
    if (provider.is_active !== true) {
      const error = typeof provider.error === 'string' && provider.error !== '' ? provider.error : 'not active';
      return { ok: false, detail: `${name}; data provider (${driver}): ${error}` };
    }
    await sendV2(b, { method: 'GET', path: '/users', query: { limit: 1, offset: 0, order: 'ASC' } }, ctx);
    return { ok: true, detail: `${name}; data provider (${driver}) active; users readable` };
  } catch (err) {
    return { ok: false, detail: err instanceof GatewayError ? err.detail : 'health check failed' };
  }
}

/** What is known of the server now, without a call (nulls until it is found). */
export function serverV2(b: SftpgoV2Backend): ServerInfo {
  const facts = b.server.facts;
  return { apiVersion: facts?.apiVersion ?? null, serverVersion: facts?.serverVersion ?? null };
}
