/**
 * The provider kit: all an adapter (adapters/<provider>/) may use of the core, and nothing more —
 * the adapter interface, the upstream client, errors, and the model with its mapping helpers.
 * Adapters import this file only (their emulators, src/provider-kit/emulator-kit.ts besides); the
 * core never imports an adapter except through the registry, src/providers.ts.
 */
export {
  capabilitiesOf, isOperationCapability,
  type AdapterDeps, type CallContext, type CapabilityOperations, type CreatedUserResult, type FieldCapabilities,
  type HealthResult, type ListUsersQuery, type Operations, type ProviderAdapter, type ProviderNaming,
  type ServerInfo, type UserPage,
} from './adapter.js';
export { breaker, httpUrl, retries, timeoutMs, type BackendConfig } from './backend-config.js';
export type { DemoBackend, ProviderDefinition } from './provider.js';
export {
  UnsupportedFields, checkBackendConfig, interpretFailure, parseAnswer, parseAnswerList, scrub, withoutUriPassword,
  type FailureOptions, type ProviderVoice,
} from './failure.js';
export { UpstreamClient, upstreamMessage, type UpstreamRequest, type UpstreamResponse } from '../reliability/upstream.js';
export { KeyedMutex } from '../reliability/keyed-mutex.js';
export { GatewayError, conflict, invalidRequest, notFound, unsupportedField, upstreamError } from '../domain/errors.js';
export {
  BASIC_PERMISSIONS, FIXED_LEVELS, PERMISSIONS, SSH_KEY_TYPES, USERNAME_MAX,
  type AccessLevel, type AdapterUser, type Capabilities, type Connection, type FixedLevel, type Limits, type LimitsInput, type NetworkRule,
  type NetworkRuleInput, type PasswordRotation, type Permission, type QuotaScan, type SshKey, type SshKeyType, type Usage,
  type UserCreate, type UserPatch, type UserStatus,
} from '../domain/model.js';
export {
  BASIC_VOCABULARY, accessLevelOf, canonicalPermissions, namesOutside, nearestLevels, permissionsOf, requestedDirectories,
  requestedPermissions, vocabularyOf, type Vocabulary,
} from '../domain/permissions.js';
export { parseSshKeyList, parseSshPublicKey, sshKeyIdOf, sshKeyTypeOf, type ParsedSshKey } from '../domain/ssh-key.js';
export { normalizeCidr } from '../domain/cidr.js';
export { isoFromMs } from '../domain/iso-time.js';
export { cleanPath } from '../domain/paths.js';
export { isJsonObject } from '../domain/json.js';
export { pageOfAll } from '../domain/paging.js';
export { mapYielding } from '../domain/yielding.js';
export { generatePassword } from '../domain/secrets.js';
export { wellFormed } from '../domain/unicode.js';
