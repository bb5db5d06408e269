/** The SFTPGo 1.2.0 provider: its adapter factory and what tests and the core may reuse. */
export { createSftpgoAdapter, SFTPGO_CAPABILITIES } from './adapter.js';
