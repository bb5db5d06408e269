/** Builds one adapter per configured backend. The only place that knows provider names. */
import { createSftpgoAdapter } from '../adapters/sftpgo/index.js';
import { createSftpToGoAdapter } from '../adapters/sftptogo/index.js';
import type { ProviderAdapter } from './adapter.js';
import type { BackendConfig } from './config.js';

export function createAdapters(
  backends: Record<string, BackendConfig>,
  fetchFor: (backend: string) => typeof fetch | undefined = () => undefined,
): Map<string, ProviderAdapter> {
  return new Map(
    Object.entries(backends).map(([name, cfg]) => {
      const deps = { backend: name, fetch: fetchFor(name) };
      const adapter = cfg.provider === 'sftpgo' ? createSftpgoAdapter(cfg, deps) : createSftpToGoAdapter(cfg, deps);
      return [name, adapter] as const;
    }),
  );
}
