/**
 * Graceful shutdown of a Node HTTP server (the Node entry's SIGTERM/SIGINT): stop accepting,
 * let the requests in flight finish within a grace period, close idle keep-alive sockets as they
 * become idle, and when the grace period runs out destroy whatever is left and say how much was
 * cut. Node only: the Workers entry never imports this file.
 *
 * @example
 * const drainer = trackConnections(server);            // right after creating the server
 * const result = await drainer.drain(10_000);           // on SIGTERM
 * if (!result.clean) log.error({ cut: result.cutRequests }, 'grace period ran out');
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface DrainResult {
  /** True when every request finished and every socket closed within the grace period. */
  clean: boolean;
  /** Requests still unanswered when the grace period ran out (their sockets were destroyed). */
  cutRequests: number;
  /** Sockets still open when the grace period ran out, busy or not. */
  cutConnections: number;
  elapsedMs: number;
}

export interface ConnectionTracker {
  /** Requests being answered now. */
  readonly inFlight: number;
  /** Open sockets now. */
  readonly connections: number;
  /**
   * Stops accepting connections and waits, at most `graceMs`, for the in-flight requests and
   * their sockets. Every answer sent from now on says `Connection: close`, and idle keep-alive
   * sockets are closed at once and whenever one becomes idle. Resolves once the server is closed.
   * A second call returns the same promise.
   */
  drain(graceMs: number): Promise<DrainResult>;
  /** Ends a running drain now, as if its grace period had run out (e.g. a second signal). */
  cutNow(): void;
}

/** Call right after creating the server, before it accepts a connection, so every socket and request is counted. */
export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Set<Socket>();
  /** Unanswered responses: a request counts as in flight until its response is finished or its socket is gone. */
  const active = new Set<ServerResponse>();
  let draining: Promise<DrainResult> | undefined;
  let cut: (() => void) | undefined;

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      active.delete(res);
      // The socket may now be an idle keep-alive one: close it rather than wait for its timeout.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
  });

  function drain(graceMs: number): Promise<DrainResult> {
    draining ??= new Promise<DrainResult>((resolve) => {
      const started = Date.now();
      let result: Omit<DrainResult, 'elapsedMs'> | undefined;
      // Answers not yet begun close their socket when sent, so keep-alive clients reconnect elsewhere.
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');

      cut = () => {
        if (result) return;
        result = { clean: false, cutRequests: active.size, cutConnections: sockets.size };
        clearTimeout(timer);
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      };
      const timer = setTimeout(cut, graceMs);

      server.close(() => {
        clearTimeout(timer);
        result ??= { clean: true, cutRequests: 0, cutConnections: 0 };
        resolve({ ...result, elapsedMs: Date.now() - started });
      });
      server.closeIdleConnections();
    });
    return draining;
  }

  return {
    get inFlight() {
      return active.size;
    },
    get connections() {
      return sockets.size;
    },
    drain,
    cutNow: () => cut?.(),
  };
}
