import { connect } from 'node:net';

/**
 * `node netcat.js HOST PORT [DIE_AFTER]`: stdin to a TCP connection and the connection to
 * stdout, like `nc HOST PORT`, for ProxyCommand tests on machines without nc. Exits when either
 * side ends; with DIE_AFTER, exits 3 once that many bytes came from the server (a tunnel dying).
 */
const [host, port, dieAfter] = process.argv.slice(2);
if (!host || !port) {
  process.stderr.write('usage: netcat.js HOST PORT [DIE_AFTER]\n');
  process.exit(2);
}
const socket = connect({ host, port: Number(port) });
socket.on('error', (error) => {
  process.stderr.write(`netcat: ${error.message}\n`);
  process.exit(1);
});
process.stdin.pipe(socket).pipe(process.stdout);
socket.on('close', () => process.exit(0));
if (dieAfter !== undefined) {
  let down = 0;
  socket.on('data', (chunk: Buffer) => {
    down += chunk.length;
    if (down < Number(dieAfter)) return;
    process.stderr.write('netcat: tunnel closed\n');
    process.exit(3);
  });
}
