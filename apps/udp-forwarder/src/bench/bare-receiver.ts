import dgram from 'node:dgram';

// A dgram socket that only counts: the ceiling the forwarder is measured
// against. Run through child_process.fork; talks to the bench over IPC.
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
let count = 0;
socket.on('message', () => {
  count++;
});
socket.bind(0, '127.0.0.1', () => {
  process.send?.({ port: socket.address().port });
});
process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'count') process.send?.({ count });
  if (msg.type === 'stop') socket.close(() => process.exit(0));
});
