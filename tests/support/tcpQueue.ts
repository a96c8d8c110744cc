/**
 * What the kernel says of one established TCP connection's send queue, read from /proc/net/tcp and /proc/net/tcp6
 * (Linux; the format is the kernel's net/ipv4/tcp_ipv4.c get_tcp4_sock and net/ipv6/tcp_ipv6.c get_tcp6_sock).
 *
 * A stand-in needs it where "written" is not enough: a write on loopback returns once the bytes are in the kernel,
 * but the peer's socket may receive them later (under CPU load the loopback's softirq runs in ksoftirqd, which waits
 * for its turn). The peer's TCP acknowledges a segment only once it is in the peer socket's receive queue
 * (tcp_data_queue, then the ACK), so a send queue with nothing unacknowledged means the peer can read it all.
 */
import * as fs from "fs";

/** The hex port of an address field of /proc/net/tcp ("0100007F:1F90" or the IPv6 form), as a number. */
function portOf(address: string): number {
    return parseInt(address.slice(address.lastIndexOf(":") + 1), 16);
}

/** The st column of a socket in TIME_WAIT (the kernel's TCP_TIME_WAIT): closed, kept only to absorb late segments. */
const TIME_WAIT = "06";

/**
 * Bytes written on the connection from local port `localPort` to remote port `remotePort` that its peer has not
 * acknowledged yet (the tx_queue column: write_seq - snd_una); undefined when no such connection is listed, or only
 * in TIME_WAIT (closed on both sides, or an earlier connection of the same ports), or the files cannot be read. On
 * loopback the pair of ports names one connection: both ends' ports are this machine's.
 */
export function unacknowledgedBytes(localPort: number, remotePort: number): number | undefined {
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch {
            continue;
        }
        for (const line of text.split("\n").slice(1)) {
            // sl local_address rem_address st tx_queue:rx_queue ...
            const fields = line.trim().split(/\s+/);
            if (fields.length < 5 || fields[3] === TIME_WAIT) continue;
            if (portOf(fields[1]) !== localPort || portOf(fields[2]) !== remotePort) continue;
            return parseInt(fields[4].split(":")[0], 16);
        }
    }
    return undefined;
}
