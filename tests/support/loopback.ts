/** Test servers on 127.0.0.1: started on a free port, closed with every open connection. */
import type * as https from "https";
import type { AddressInfo } from "net";

/** Starts `server` on 127.0.0.1 and a free port; `close` ends open connections too, so it never waits on a client. */
export async function serveOnLoopback(server: https.Server): Promise<{ url: string; port: number; close: () => Promise<void> }> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `https://127.0.0.1:${port}`,
        port,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
