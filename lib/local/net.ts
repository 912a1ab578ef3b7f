/**
 * Small networking helpers shared by the local stack's three servers: listening on a loopback
 * port with an error that names the port, and closing a server without waiting for idle
 * keep-alive connections.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Raised when a port the local stack wants is taken; the message names the port and the flag. */
export class PortInUseError extends Error {
  constructor(
    readonly what: string,
    readonly host: string,
    readonly port: number,
    readonly flag: string,
  ) {
    super(
      `${what} cannot listen on ${host}:${port}: the port is already in use. ` +
        `Stop whatever uses port ${port} or choose another port with ${flag} (0 picks a free one).`,
    );
    this.name = 'PortInUseError';
  }
}

/** Raised for a problem the user can fix (bad flag, data directory in use); printed without a stack. */
export class LocalStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackError';
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Turns an `EADDRINUSE` from `listen` into a `PortInUseError`; other errors pass through. */
export function explainListenError(err: unknown, what: string, host: string, port: number, flag: string): unknown {
  if (isErrno(err, 'EADDRINUSE')) return new PortInUseError(what, host, port, flag);
  if (isErrno(err, 'EADDRNOTAVAIL')) return new LocalStackError(`${what} cannot listen on ${host}: no such local address.`);
  if (isErrno(err, 'EACCES')) return new LocalStackError(`${what} may not listen on ${host}:${port} (permission denied); use a port above 1023.`);
  return err;
}

/** Listens on `host:port` (0 = a free port) and resolves with the port actually bound. */
export function listen(server: Server, host: string, port: number, what: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => reject(explainListenError(err, what, host, port, flag));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Closes a server: stops accepting, drops idle keep-alive sockets at once, and gives in-flight
 * requests `graceMs` before their sockets are cut.
 */
export function closeServer(server: Server, graceMs = 2000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close((err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** `http://host:port`, with IPv6 hosts bracketed. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
