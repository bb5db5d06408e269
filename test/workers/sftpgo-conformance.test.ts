/** The shared conformance suite against the Worker in workerd, in front of the SFTPGo 1.2.2 emulator (see ./conformance-runner.ts). */
import { runSftpgoConformanceInWorkerd } from './sftpgo-conformance-target.js';

runSftpgoConformanceInWorkerd('1.2.2');
