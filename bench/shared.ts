/** What the benchmark's processes agree on: credentials and the load runner's input and output. */

/** The SFTP To Go emulator's API key and organization (loopback only, never a real one). */
export const BENCH_SFTPTOGO_KEY = 'bench-sftptogo-api-key-0123456789';
export const BENCH_ORG = 'bench-org-5b0c1a9e';
/** The gateway's API key (read and write scopes). */
export const BENCH_GATEWAY_KEY = 'bench-gateway-key-0123456789abcdef';

/** What bench/load.ts is asked to do (one JSON argument). */
export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
  /** `get` (default): the same GET again and again; `write-pairs`: create + delete of a user, in turn. */
  mode?: 'get' | 'write-pairs';
  /** write-pairs: the path of the users collection, e.g. `/v1/users`. */
  usersPath?: string;
}

/** What bench/load.ts prints (one JSON line). Latencies in ms, from autocannon's float timings. */
export interface LoadResult {
  requests: number;
  /** Completed pairs (write-pairs only). */
  pairs?: number;
  durationS: number;
  /** Requests (or pairs, for write-pairs) per second over the run. */
  rate: number;
  p50: number;
  p99: number;
  /** Of a whole pair (create + delete), write-pairs only. */
  pairP50?: number;
  pairP99?: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** The load generator's own CPU time (user + system), startup included, in ms. */
  cpuMs: number;
}
