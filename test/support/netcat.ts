import { connect } from 'node:net';

/**
 * `node netcat.js HOST PORT`: stdin to a TCP connection and the connection to stdout, like
 * `nc HOST PORT`, for ProxyCommand tests on machines without nc. Exits when either side ends.
 */
const [host, port] = process.argv.slice(2);
if (!host || !port) {
  process.stderr.write('usage: netcat.js HOST PORT\n');
  process.exit(2);
}
const socket = connect({ host, port: Number(port) });
socket.on('error', (error) => {
  process.stderr.write(`netcat: ${error.message}\n`);
  process.exit(1);
});
process.stdin.pipe(socket).pipe(process.stdout);
socket.on('close', () => process.exit(0));
