/** An SFTPGo backend's config (CONTRACT §7). */
import { z } from 'zod';
import { breaker, httpUrl, retries, timeoutMs } from '../../src/provider-kit/index.js';

export const SftpgoBackendConfig = z
  .object({
    provider: z.literal('sftpgo'),
    /**
     * `auto` finds the server's API on first use; `v1` pins REST API v1 (SFTPGo 0.9.x and 1.x,
     * told apart by the server); `v2` pins REST API v2 (SFTPGo 2.x).
     */
    apiVersion: z.enum(['auto', 'v1', 'v2'], { error: 'must be "auto", "v1" or "v2"' }).default('auto'),
    /** The server root; the adapter adds `/api/v1` or `/api/v2`. */
    baseUrl: httpUrl,
    /** An admin's: HTTP basic auth on API v1, traded for a token at `/api/v2/token` on v2. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** An API v2 key (`X-SFTPGO-API-KEY`); its admin must allow API key authentication. */
    apiKey: z.string().min(1).optional(),
    /** The SFTP endpoint users connect to, for `host` and `uri`. */
    sftpHost: z.string().min(1).optional(),
    sftpPort: z.number().int().min(1).max(65535).default(22),
    homeDirectoryBase: z.string().regex(/^\//, 'must be an absolute path').default('/srv/sftpgo/data'),
    timeoutMs,
    retries,
    breaker,
  })
  .strict()
  .refine((b) => (b.username === undefined) === (b.password === undefined), {
    message: 'username and password go together (an admin of the SFTPGo server)',
    path: ['password'],
  })
  .refine((b) => b.apiKey === undefined || b.username === undefined, {
    // With both, a refusal could not say which one to fix.
    message: 'give either apiKey or username and password, not both',
    path: ['apiKey'],
  })
  .refine((b) => b.apiKey === undefined || b.apiVersion !== 'v1', {
    message: 'REST API v1 (SFTPGo 0.9.x and 1.x) has no API keys: use username and password, or apiVersion "v2"',
    path: ['apiKey'],
  })
  .refine((b) => b.apiVersion !== 'v2' || b.apiKey !== undefined || b.username !== undefined, {
    message: 'REST API v2 (SFTPGo 2.x) needs credentials: apiKey, or username and password',
    path: ['apiKey'],
  });
export type SftpgoBackendConfig = z.infer<typeof SftpgoBackendConfig>;
