/** The server's live SFTP connections and its quota scans, on SFTPGo REST API v2. */
import { conflict, notFound, type CallContext, type Connection, type QuotaScan } from '../../src/provider-kit/index.js';
import { toConnection, toQuotaScan } from './mapping.js';
import { UpstreamConnectionList, UpstreamQuotaScanList, parseUpstream } from './schema.js';
import { sendV2, userPath, type SftpgoV2Backend } from './v2-backend.js';
import { onUser } from './v2-users.js';

/** 2.x adds `current_time` (the server's clock) to each connection; the model has no field for it. */
export async function listConnectionsV2(b: SftpgoV2Backend, ctx: CallContext): Promise<Connection[]> {
  const res = await sendV2(b, { method: 'GET', path: '/connections' }, ctx, { apiCheck: true });
  return parseUpstream(UpstreamConnectionList, res.body, 'a list of connections', res.status).map(toConnection);
}

/** An unknown id is the router's own 404 (`{"message":"Not Found"}`: connections-close-404.txt). */
export async function closeConnectionV2(b: SftpgoV2Backend, connectionId: string, ctx: CallContext): Promise<void> {
  // A dot segment would be resolved to another path: no connection has such an id.
  if (connectionId === '' || connectionId === '.' || connectionId === '..') throw notFound(`connection ${connectionId} not found`);
  await sendV2(b, { method: 'DELETE', path: `/connections/${encodeURIComponent(connectionId)}` }, ctx, {
    notFound: `connection ${connectionId} not found`,
  });
}

export async function listQuotaScansV2(b: SftpgoV2Backend, ctx: CallContext): Promise<QuotaScan[]> {
  const res = await sendV2(b, { method: 'GET', path: '/quotas/users/scans' }, ctx, { apiCheck: true });
  return parseUpstream(UpstreamQuotaScanList, res.body, 'a list of quota scans', res.status).map(toQuotaScan);
}

/** 202 when started; 409 while one runs for the user (quota-scan-start-409.txt). */
export async function startQuotaScanV2(b: SftpgoV2Backend, id: string, ctx: CallContext): Promise<void> {
  await sendV2(b, { method: 'POST', path: `/quotas${userPath(id)}/scan` }, ctx, {
    ...onUser(id),
    special: (res) => (res.status === 409 ? conflict(`a quota scan is already running for ${id}`) : undefined),
  });
}
