/**
 * What the gateway measures, behind one small provider-neutral interface. The app only calls
 * these methods; the Node entry injects the Prometheus implementation (src/node/metrics.ts, with
 * prom-client), and an entry without one (Cloudflare Workers) gets `noopMetrics`, under which
 * `/metrics` answers 404. This file imports nothing, so every runtime can load it.
 *
 * Every label value is bounded: route patterns (not paths), configured backend names, method,
 * status code and the fixed outcome words below — never an id, a username or a query string.
 */

/**
 * A circuit breaker's phase, as the gauge reads it: closed 0, half-open 1, open 2. (The same
 * union as src/reliability/circuit-breaker.ts's `CircuitPhase`, restated so this file imports nothing.)
 */
export type CircuitPhase = 'closed' | 'half-open' | 'open';

/** How one upstream call ended: its status class, or how it failed without one. */
export type UpstreamOutcome = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'unreachable' | 'open-circuit' | 'error';

/** A list cache read's outcome, as `X-Cache` says it. */
export type CacheOutcomeName = 'HIT' | 'MISS' | 'BYPASS';

export interface RequestObservation {
  /** The matched route pattern, e.g. `/v1/backends/:backend/users/:id`; `unmatched` when none matched. */
  route: string;
  method: string;
  status: number;
  /** The backend the request reached; null when none was resolved (system routes, 401, unknown backend). */
  backend: string | null;
  seconds: number;
}

/** The throttle rule that refused a request (src/security/throttle.ts). */
export type ThrottleRule = 'failed-auth' | 'key-limit';

/** The text a scrape gets, with its content type. */
export interface MetricsExposition {
  contentType: string;
  body: string;
}

export interface Metrics {
  /** One answered request of the gateway's own API. */
  observeRequest(observation: RequestObservation): void;
  /**
   * One upstream call: `outcome` is a status class (`2xx`, `4xx`, `5xx`) or a failure kind
   * (`timeout`, `unreachable`, `open-circuit`); see `upstreamOutcome`.
   */
  observeUpstream(backend: string, outcome: string, seconds: number): void;
  /** One list cache read (src/cache/list-cache.ts): HIT, MISS or BYPASS. */
  observeCache(backend: string, outcome: CacheOutcomeName): void;
  /**
   * Makes the backend's circuit state a gauge, read through `state` at each scrape. Registering
   * a backend again replaces its reader.
   */
  registerCircuit(backend: string, state: () => CircuitPhase): void;
  /** One request refused with 429 by a throttle rule (never the upstream's own 429). */
  observeThrottled(rule: ThrottleRule): void;
  /** The exposition for `GET /metrics`. Absent when this implementation has nothing to show: then `/metrics` is a 404. */
  render?(): Promise<MetricsExposition>;
}

/** Measures nothing and renders nothing (`/metrics` is then a 404): the default, and the Workers entry's. */
export const noopMetrics: Metrics = {
  observeRequest() {},
  observeUpstream() {},
  observeCache() {},
  registerCircuit() {},
  observeThrottled() {},
};

/** The gauge's value of a circuit state. */
export const CIRCUIT_STATE_VALUE: Record<CircuitPhase, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The `outcome` label of an upstream call that was made, from its HTTP status or from the
 * contract error it failed with (`upstream_timeout` → timeout, `upstream_unavailable` →
 * unreachable). A call the circuit breaker refused is never made: its caller says
 * `open-circuit` itself, since that error has the same code as an unreachable upstream.
 *
 * @example upstreamOutcome(204) // '2xx'
 * @example upstreamOutcome(upstreamTimeout('…')) // 'timeout'
 */
export function upstreamOutcome(result: number | Error | { code?: unknown }): UpstreamOutcome {
  if (typeof result === 'number') {
    const cls = Math.floor(result / 100);
    return cls >= 1 && cls <= 5 ? (`${cls}xx` as UpstreamOutcome) : 'error';
  }
  const code = (result as { code?: unknown } | null)?.code;
  if (code === 'upstream_timeout') return 'timeout';
  if (code === 'upstream_unavailable') return 'unreachable';
  return 'error';
}
