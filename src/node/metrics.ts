/**
 * The Prometheus implementation of `Metrics` (src/observability/metrics.ts), on prom-client. Node only: the
 * Workers entry never imports this file.
 *
 * Each instance has its own prom-client Registry (never the global one), so several apps in one
 * process (tests, or two gateways side by side) keep separate numbers and never collide on a
 * metric name.
 *
 * @example
 * const metrics = createNodeMetrics({ processMetrics: true });
 * createApp({ config, adapters, cache, logger, metrics }); // GET /metrics now answers
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  CIRCUIT_STATE_VALUE, type CacheOutcomeName, type CircuitPhase, type Metrics, type MetricsExposition,
  type RequestObservation, type ThrottleRule,
} from '../observability/metrics.js';

export interface NodeMetricsOptions {
  /** Also export prom-client's process and Node.js runtime metrics (CPU, memory, event loop lag, GC). @default false */
  processMetrics?: boolean;
}

export interface NodeMetrics extends Metrics {
  render(): Promise<MetricsExposition>;
  /** This instance's own registry, e.g. to add a metric of the entry's. */
  readonly registry: Registry;
}

/** Seconds. From a cache hit (a few ms) to the longest upstream timeout the config allows (120 s). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createNodeMetrics(opts: NodeMetricsOptions = {}): NodeMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });

  const requestLabels = ['route', 'method', 'status', 'backend'] as const;
  const requests = new Counter({
    name: 'sftp_gateway_http_requests_total',
    help: 'Requests answered by the gateway, by route pattern, method, status and backend ("" when none was resolved)',
    labelNames: requestLabels,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'sftp_gateway_http_request_duration_seconds',
    help: 'Time from a request reaching the gateway to its answer, by route pattern, method, status and backend',
    labelNames: requestLabels,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstream = new Histogram({
    name: 'sftp_gateway_upstream_request_duration_seconds',
    help: 'Upstream (provider API) call latency, by backend and outcome (2xx, 4xx, 5xx, timeout, unreachable, open-circuit)',
    labelNames: ['backend', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const cache = new Counter({
    name: 'sftp_gateway_list_cache_reads_total',
    help: 'List cache reads by backend and outcome (hit, miss, bypass), as X-Cache reports them',
    labelNames: ['backend', 'outcome'] as const,
    registers: [registry],
  });

  const throttled = new Counter({
    name: 'sftp_gateway_throttled_requests_total',
    help: 'Requests refused with 429 by the gateway\'s own limits, by rule (failed-auth: an address over its failed authentications; key-limit: a key over its requests a minute)',
    labelNames: ['rule'] as const,
    registers: [registry],
  });

  const circuits = new Map<string, () => CircuitPhase>();
  new Gauge({
    name: 'sftp_gateway_circuit_state',
    help: 'Circuit breaker state per backend: 0 closed, 1 half-open, 2 open',
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [backend, read] of circuits) {
        let state: CircuitPhase;
        try {
          state = read();
        } catch {
          continue; // a reader that fails leaves its series out of this scrape rather than failing it
        }
        const value = CIRCUIT_STATE_VALUE[state];
        if (value !== undefined) this.set({ backend }, value);
      }
    },
  });

  return {
    registry,
    observeRequest(o: RequestObservation) {
      const labels = { route: o.route, method: o.method, status: String(o.status), backend: o.backend ?? '' };
      requests.inc(labels);
      requestDuration.observe(labels, o.seconds);
    },
    observeUpstream(backend: string, outcome: string, seconds: number) {
      upstream.observe({ backend, outcome }, seconds);
    },
    observeCache(backend: string, outcome: CacheOutcomeName) {
      cache.inc({ backend, outcome: outcome.toLowerCase() });
    },
    registerCircuit(backend: string, state: () => CircuitPhase) {
      circuits.set(backend, state);
    },
    observeThrottled(rule: ThrottleRule) {
      throttled.inc({ rule });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
