/** An SFTPGo backend's config (CONTRACT §7). */
import { z } from 'zod';
import { breaker, httpUrl, retries, timeoutMs } from '../../src/provider-kit/index.js';

export const SftpgoBackendConfig = z
  .object({
    provider: z.literal('sftpgo'),
    /**
     * `auto` finds the server's API on first use; `v1` pins SFTPGo's REST API v1 (0.9.x and 1.x,
     * told apart by the server). API v2 (SFTPGo 2.x) is not supported yet.
     */
    apiVersion: z
      .enum(['auto', 'v1'], { error: 'must be "auto" or "v1" (REST API v2, for SFTPGo 2.x, is not supported yet)' })
      .default('auto'),
    /** The server root; the adapter adds `/api/v1`. */
    baseUrl: httpUrl,
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
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
    message: 'username and password go together (HTTP basic auth)',
    path: ['password'],
  });
export type SftpgoBackendConfig = z.infer<typeof SftpgoBackendConfig>;
