/** The SFTP To Go provider: its adapter factory and what tests and the core may reuse. */
export { createSftpToGoAdapter, interpretFailure, SFTPTOGO_CAPABILITIES } from './adapter.js';
