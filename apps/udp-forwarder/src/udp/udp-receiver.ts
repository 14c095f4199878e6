import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Address the socket actually bound. */
export interface UdpAddress {
  host: string;
  port: number;
  /** SO_RCVBUF as the kernel granted it (Linux reports double the request, capped by rmem_max). */
  recvBufferBytes: number;
}

export interface UdpReceiverOptions {
  host: string;
  port: number;
  recvBufferBytes: number;
  onMessage: (msg: Buffer, rinfo: dgram.RemoteInfo) => void;
  onError: (err: Error) => void;
}

/** The forwarder's UDP socket: bind with an explicit receive buffer, hand each datagram on. */
export class UdpReceiver {
  private socket: dgram.Socket | undefined;

  constructor(private readonly options: UdpReceiverOptions) {}

  /** Binds and resolves with the real address and buffer size. */
  async start(): Promise<UdpAddress> {
    const { host, port, recvBufferBytes, onMessage, onError } = this.options;
    const resolved = host === 'localhost' ? '127.0.0.1' : host;
    const socket = dgram.createSocket({
      type: isIPv6(resolved) ? 'udp6' : 'udp4',
      // A burst larger than the default ~200 KiB buffer would be lost in the
      // kernel while the event loop is busy sending a batch.
      recvBufferSize: recvBufferBytes,
    });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, resolved, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', onError);
    socket.on('message', onMessage);
    const address = socket.address();
    return {
      host: address.address,
      port: address.port,
      recvBufferBytes: socket.getRecvBufferSize(),
    };
  }

  /** Stops reading; datagrams still in the kernel buffer are not read. */
  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.removeAllListeners('message');
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
