/** The SFTPGo provider (REST API v1, SFTPGo 0.9.x and 1.x): its adapter factory and what tests and the core may reuse. */
export { createSftpgoAdapter, SFTPGO_CAPABILITIES } from './adapter.js';
