/**
 * What cron does with a crontab line before the shell sees it, written from cron's own source
 * (entry.c reads five fields and skips the blanks after them; do_command.c's child_process then
 * edits the rest): `\%` becomes `%`, any other backslash stays as it is, and the first bare `%`
 * ends the command; what follows is the job's stdin, each further `%` a newline. Kept apart from
 * src/cron so the tests do not check gsync's quoting against gsync's own reading of it.
 */
export function commandAsCronRunsIt(line: string): { command: string; stdin: string } {
  const rest = /^\s*(?:\S+[ \t]+){5}(.*)$/s.exec(line)?.[1];
  if (rest === undefined) throw new Error(`not a five-field crontab line: ${line}`);
  let command = '';
  let escaped = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] as string;
    if (escaped) {
      // cron overwrites the backslash it kept with the % it escaped.
      command = ch === '%' ? `${command.slice(0, -1)}%` : command + ch;
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      command += ch;
      continue;
    }
    if (ch === '%') return { command, stdin: rest.slice(i + 1) };
    command += ch;
  }
  return { command, stdin: '' };
}

/** The environment Debian's cron gives a job: these four and nothing else (no SSH_AUTH_SOCK, no TERM). */
export function cronEnv(home: string, user: string): NodeJS.ProcessEnv {
  return { HOME: home, LOGNAME: user, SHELL: '/bin/sh', PATH: '/usr/bin:/bin' };
}
