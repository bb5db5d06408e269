/** The shared conformance suite against the Worker in workerd, in front of the SFTPGo emulator in the 0.9.x shape (the seed's). */
import { runSftpgoConformanceInWorkerd } from './sftpgo-conformance-target.js';

runSftpgoConformanceInWorkerd('0.9.4');
