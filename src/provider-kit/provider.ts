/**
 * What a provider gives the gateway: its config schema, its adapter, and what decides its answers. Each provider's folder exports one (adapters/<provider>/index.ts); the registry
 * (src/providers.ts) lists them, and only the runtime entries import the registry.
 */
import type { z } from 'zod';
import type { Provider } from '../domain/model.js';
import type { AdapterDeps, ProviderAdapter } from './adapter.js';
import type { BackendConfig } from './backend-config.js';

/**
 * A provider's emulator serving on loopback for demo mode, and the backend config that reaches it
 * (each provider's `emulator/demo.ts` starts one or more, loaded by src/node/demo.ts only in demo mode).
 */
export interface DemoBackend {
  /** The backend's name in demo mode, e.g. `demo-sftpgo`. */
  name: string;
  config: BackendConfig;
  close(): Promise<void>;
}

export interface ProviderDefinition<C extends BackendConfig = BackendConfig> {
  readonly name: Provider;
  /** The backend config this provider takes, discriminated by `provider` (CONTRACT §7). */
  readonly configSchema: z.ZodType<C> & { readonly shape: { provider: z.ZodLiteral<Provider> } };
  /**
   * The settings that decide what the backend's answers hold (its upstream, and whatever the
   * answers echo): a change of any makes stored answers and idempotency records unreachable.
   * Credentials and timeouts are left out: they change no answer.
   */
  decisiveSettings(config: C): unknown[];
  createAdapter(config: C, deps: AdapterDeps): ProviderAdapter;
}
