/** The live check of one SFTP To Go backend. */
import { scrub, upstreamMessage, type CallContext, type HealthResult } from '../../src/provider-kit/index.js';
import { isGatewayError, type SftpToGoBackend } from './backend.js';
import { isUpstreamCredential } from './schema.js';

/** `GET /users`, the only read the API has; never throws. */
export async function health(b: SftpToGoBackend, ctx: CallContext): Promise<HealthResult> {
  try {
    // The client itself, not `send`: every answer becomes a detail here, none an error.
    const res = await b.client.request({ method: 'GET', path: '/users' }, ctx);
    if (res.status === 200) {
      const list = res.body;
      return Array.isArray(list) && list.every(isUpstreamCredential)
        ? { ok: true, detail: `SFTP To Go: ${list.length} credential${list.length === 1 ? '' : 's'}` }
        : { ok: false, detail: 'SFTP To Go answered 200 with a body that is not a list of credentials' };
    }
    if (res.status === 401 || res.status === 403) {
      return {
        ok: false,
        detail: `SFTP To Go rejected the gateway's API key (${res.status}): check the backend's apiKey and organizationId`,
      };
    }
    const message = scrub(upstreamMessage(res.body), b.credentials);
    return { ok: false, detail: `SFTP To Go answered ${res.status}${message ? `: ${message}` : ''}` };
  } catch (err) {
    return { ok: false, detail: `unreachable: ${isGatewayError(err) ? err.detail : 'SFTP To Go could not be reached'}` };
  }
}
