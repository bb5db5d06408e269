/** The Hono environment every route shares: what middleware puts on `c.var`. */
import type { StoreMiss } from '../cache/list-cache.js';
import type { ProviderAdapter } from '../provider-kit/adapter.js';
import type { Logger } from '../observability/logger.js';
import type { Principal } from '../security/auth.js';

export interface BackendEntry {
  name: string;
  adapter: ProviderAdapter;
  isDefault: boolean;
}

export interface GatewayEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    principal: Principal;
    /** The request's authentication, once started (src/http/pipeline.ts `oncePerRequest`). */
    authentication: Promise<Principal>;
    backend: BackendEntry;
    /** Where the list route's stored-page step found nothing stored (src/http/routes/users-stored-page.ts). */
    storeMiss: StoreMiss | undefined;
    /** The answer carries the pipeline's headers already (src/http/pipeline.ts `completeAnswer`). */
    answerComplete: boolean | undefined;
  };
}
