/** Builds one adapter per configured backend. The only place that knows provider names. */
import { createSftpgoAdapter } from '../adapters/sftpgo/index.js';
import { createSftpToGoAdapter } from '../adapters/sftptogo/index.js';
import type { ProviderAdapter } from './provider-kit/adapter.js';
import { CircuitBreaker } from './reliability/circuit-breaker.js';
import type { BackendConfig } from './config.js';
import { noopMetrics, type Metrics } from './observability/metrics.js';
import type { UpstreamTransport } from './reliability/upstream.js';

/** A transport for one backend's upstream (Node's undici pool), or undefined for the global fetch. */
export type TransportFor = (backend: string, baseUrl: string) => UpstreamTransport | undefined;

export function createAdapters(
  backends: Record<string, BackendConfig>,
  fetchFor: (backend: string) => typeof fetch | undefined = () => undefined,
  metrics: Pick<Metrics, 'observeUpstream'> = noopMetrics,
  transportFor: TransportFor = () => undefined,
): Map<string, ProviderAdapter> {
  return new Map(
    Object.entries(backends).map(([name, cfg]) => {
      const fetch = fetchFor(name);
      // One breaker per backend, living as long as its adapter: the adapter's client reports to it.
      const deps = {
        backend: name,
        fetch,
        // An injected fetch wins: then no transport (and no pool) is made for the backend.
        transport: fetch ? undefined : transportFor(name, cfg.baseUrl),
        breaker: new CircuitBreaker(cfg.breaker),
        observeUpstream: (outcome: string, seconds: number) => metrics.observeUpstream(name, outcome, seconds),
      };
      const adapter = cfg.provider === 'sftpgo' ? createSftpgoAdapter(cfg, deps) : createSftpToGoAdapter(cfg, deps);
      return [name, adapter] as const;
    }),
  );
}
