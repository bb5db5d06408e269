/** An SFTP To Go backend's config (CONTRACT §7). */
import { z } from 'zod';
import { breaker, httpUrl, retries, timeoutMs } from '../../src/provider-kit/index.js';

export const SftpToGoBackendConfig = z
  .object({
    provider: z.literal('sftptogo'),
    baseUrl: httpUrl.default('https://api.sftptogo.com'),
    organizationId: z.string().min(1),
    apiKey: z.string().min(1),
    timeoutMs,
    retries,
    breaker,
  })
  .strict();
export type SftpToGoBackendConfig = z.infer<typeof SftpToGoBackendConfig>;
