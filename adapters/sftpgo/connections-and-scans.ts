/** The server's live SFTP connections and its quota scans (a user's used space counted again). */
import { conflict, notFound, type CallContext, type Connection, type QuotaScan } from '../../src/provider-kit/index.js';
import { readUser, send, userIdOf, type SftpgoBackend } from './backend.js';
import { storedBody, toConnection, toQuotaScan } from './mapping.js';
import { UpstreamConnectionList, UpstreamQuotaScanList, parseUpstream } from './schema.js';

export async function listConnections(b: SftpgoBackend, ctx: CallContext): Promise<Connection[]> {
  const res = await send(b, { method: 'GET', path: '/connection' }, ctx, { apiCheck: true });
  return parseUpstream(UpstreamConnectionList, res.body, 'a list of connections', res.status).map(toConnection);
}

export async function closeConnection(b: SftpgoBackend, connectionId: string, ctx: CallContext): Promise<void> {
  // A dot segment would be resolved to another path: no connection has such an id.
  if (connectionId === '' || connectionId === '.' || connectionId === '..') throw notFound(`connection ${connectionId} not found`);
  await send(b, { method: 'DELETE', path: `/connection/${encodeURIComponent(connectionId)}` }, ctx, {
    notFound: `connection ${connectionId} not found`,
  });
}

export async function listQuotaScans(b: SftpgoBackend, ctx: CallContext): Promise<QuotaScan[]> {
  const res = await send(b, { method: 'GET', path: '/quota_scan' }, ctx, { apiCheck: true });
  return parseUpstream(UpstreamQuotaScanList, res.body, 'a list of quota scans', res.status).map(toQuotaScan);
}

/** The body is a whole User; SFTPGo finds the user by its username. */
export async function startQuotaScan(b: SftpgoBackend, id: string, ctx: CallContext): Promise<void> {
  const userId = userIdOf(id);
  const stored = await readUser(b, userId, ctx);
  await send(b, { method: 'POST', path: '/quota_scan', body: storedBody(stored) }, ctx, {
    notFound: `user ${userId} not found`,
    special: (res) =>
      res.status === 409 ? conflict(`a quota scan is already running for ${stored.username}`) : undefined,
  });
}
