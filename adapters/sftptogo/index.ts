export { createSftpToGoAdapter } from './adapter.js';
