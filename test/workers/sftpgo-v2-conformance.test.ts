/** The shared conformance suite against the Worker in workerd, in front of the SFTPGo 2.7.5 emulator (REST API v2; see ./conformance-runner.ts). */
import { runSftpgoConformanceInWorkerd } from './sftpgo-conformance-target.js';

runSftpgoConformanceInWorkerd('2.7.5');
