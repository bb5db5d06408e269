/**
 * Which model fields an SFTPGo backend holds (the sftpgo columns of CONTRACT §2), per API and
 * shape; the operations are each adapter's own.
 */
import type { FieldCapabilities } from '../../src/provider-kit/index.js';
import type { V1Shape } from './mapping.js';

/** API v1 in each shape: 0.9.x (the seed's shape) has no directory permissions. */
const FIELDS_1X: FieldCapabilities = Object.freeze({
  displayName: false,
  independentChroot: false,
  rename: false,
  expiration: true,
  limits: true,
  usage: true,
  customPermissions: true,
  directoryPermissions: true,
});
export const SFTPGO_FIELDS: Readonly<Record<V1Shape, FieldCapabilities>> = Object.freeze({
  list: Object.freeze({ ...FIELDS_1X, directoryPermissions: false }),
  map: FIELDS_1X,
});

/** The sftpgo 2.x column of CONTRACT §2: 1.x's fields and the display name (`description`). */
export const SFTPGO_V2_FIELDS: FieldCapabilities = Object.freeze({ ...SFTPGO_FIELDS.map, displayName: true });
