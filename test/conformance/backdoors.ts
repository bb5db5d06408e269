/** Each emulator's backdoor as the conformance suite reads it: one per provider, for every runner. */
import type { SftpgoEmulator } from '../../adapters/sftpgo/emulator.js';
import type { SftpToGoEmulator } from '../../adapters/sftptogo/emulator.js';
import type { UpstreamBackdoor } from './suite.js';

export function sftpgoBackdoor(emu: SftpgoEmulator): UpstreamBackdoor {
  const byName = (username: string) => [...emu.users.values()].find((u) => u.username === username);
  return {
    requests: () => emu.requests.map(({ method, path, body }) => ({ method, path, body })),
    clearRequests: () => emu.clearRequests(),
    usernames: () => [...emu.users.values()].map((u) => u.username),
    passwordOf: (username) => byName(username)?.password,
    setStored: (username, bytes, files) => emu.setStored(username, bytes, files),
    someConnectionId: () => {
      const id = emu.connections[0]?.connection_id;
      if (typeof id !== 'string') throw new Error('the emulator has no connection left');
      return id;
    },
  };
}

export function sftptogoBackdoor(emu: SftpToGoEmulator): UpstreamBackdoor {
  const byName = (username: string) => [...emu.credentials.values()].find((c) => c.UserName === username);
  return {
    requests: () => emu.requests.map(({ method, path, body }) => ({ method, path, body })),
    clearRequests: () => emu.clearRequests(),
    // The root credential is there from the start, like on a real organization.
    usernames: () => [...emu.credentials.values()].map((c) => c.UserName),
    passwordOf: (username) => byName(username)?.Password,
  };
}
