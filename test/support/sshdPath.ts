/** Absolute, because sshd re-executes itself for every connection and refuses a relative path. */
export const SSHD_PATH = '/usr/sbin/sshd';
