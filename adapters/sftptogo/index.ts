/** The SFTP To Go provider: its adapter factory and what tests and the core may reuse. */
export { createSftpToGoAdapter, SFTPTOGO_CAPABILITIES } from './adapter.js';
