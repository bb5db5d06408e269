/**
 * Limiters in this process's (or Workers isolate's) memory: the default, and what the Redis-backed
 * limiters fall back to while Redis fails. Runtime-neutral: only the package's memory limiter is loaded.
 */
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import { WINDOW_SECONDS, type LimiterFactory } from './throttle.js';

export const memoryLimiters: LimiterFactory = (name, points) =>
  new RateLimiterMemory({ keyPrefix: name, points, duration: WINDOW_SECONDS });
