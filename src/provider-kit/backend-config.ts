/**
 * What every backend's config has, whatever its provider (CONTRACT §7): each provider's own schema
 * (adapters/<provider>/config.ts) builds on these pieces, and the core reads only `BackendConfig`.
 */
import { z } from 'zod';

export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
export const timeoutMs = z.number().int().min(100).max(120_000).default(10_000);
/** Retries of an upstream GET (never of a write), within `timeoutMs`. Absent = 2 (src/reliability/upstream.ts). */
export const retries = z.number().int().min(0).max(2).optional();
/** The backend's circuit breaker (src/reliability/circuit-breaker.ts). Absent fields = 5 failures, 10 s. */
export const breaker = z
  .object({
    failureThreshold: z.number().int().min(1).max(1000).optional(),
    coolDownMs: z.number().int().min(100).max(3_600_000).optional(),
  })
  .strict()
  .optional();

/** A backend's config as the core sees it: the settings every provider has; the rest is the provider's. */
export interface BackendConfig {
  provider: string;
  baseUrl: string;
  timeoutMs: number;
  retries?: number;
  breaker?: z.infer<typeof breaker>;
  /** And the provider's own settings (adapters/<provider>/config.ts). */
  [setting: string]: unknown;
}
