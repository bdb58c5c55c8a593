/**
 * The signals that stop a pull as Ctrl+C does (no new work; what is done kept and recorded; exit
 * 20). SIGHUP among them: a terminal or SSH session that goes away must not leave a run killed
 * mid-commit with its lock in place, and rsync ends with 20 on it too.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
