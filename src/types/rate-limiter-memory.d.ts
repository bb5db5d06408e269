/**
 * The in-memory limiter alone: the package's index also loads its cluster and store limiters,
 * which need Node's `cluster` and `crypto` (not in the Workers bundle).
 */
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import { RateLimiterMemory } from 'rate-limiter-flexible';
  export default RateLimiterMemory;
}
