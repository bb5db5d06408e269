/** What both SFTPGo APIs' backends build their calls on: the client, and an admin's basic auth. */
import { UpstreamClient, type AdapterDeps } from '../../src/provider-kit/index.js';
import type { SftpgoBackendConfig } from './config.js';
import type { BackendContext } from './mapping.js';

/** An admin's `Authorization: Basic …` header, and every string that would reveal it if echoed. */
export function basicAuth(username: string, password: string): { authorization: string; secrets: string[] } {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  const encoded = btoa(String.fromCharCode(...bytes));
  // The parts and the header (and its base64), in case the server repeats what it was sent.
  return { authorization: `Basic ${encoded}`, secrets: [username, password, `Basic ${encoded}`, encoded] };
}

/** The backend's client to the server root (`baseUrl` without trailing slashes), with `headers` on every call. */
export function sftpgoClient(cfg: SftpgoBackendConfig, deps: AdapterDeps, root: string, headers: Record<string, string>): UpstreamClient {
  return new UpstreamClient({
    baseUrl: root,
    headers,
    timeoutMs: cfg.timeoutMs,
    retries: cfg.retries,
    breaker: deps.breaker,
    observe: deps.observeUpstream,
    label: 'SFTPGo',
    fetch: deps.fetch,
    transport: deps.transport,
  });
}

/** What a user's mapping needs to know of the backend: its name, the SFTP host and port. */
export const backendContext = (cfg: SftpgoBackendConfig, deps: AdapterDeps): BackendContext =>
  ({ backend: deps.backend, sftpHost: cfg.sftpHost ?? null, sftpPort: cfg.sftpPort });
