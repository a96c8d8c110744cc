/**
 * The certificate components under the Pulumi mock runtime, with real keys and certificates (see
 * support/realTls.ts): what they issue is checked with openssl, node's X509Certificate and real TLS handshakes.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CertificateNames, certificateNames } from "../components/model/certificates";
import { CertificateAuthority, InstanceCertificate } from "../components/resources/certificates";
import { resolveOutputs } from "./support/outputs";
import { realTlsState } from "./support/realTls";
import { TlsEchoServer, connectTlsClient, opensslSClient, startTlsEchoServer, tlsHandshake } from "./support/tlsHandshake";

const CA_HOURS = 10 * 365 * 24;
const CERT_HOURS = 397 * 24 + 5; // not a whole number of days, on purpose
const ONE_MINUTE_MS = 60_000;

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** The SANs each instance certificate is requested with. */
const INSTANCES: Record<string, CertificateNames> = {
    es01: certificateNames({ instance: "es01", loopback: true }),
    kibana: certificateNames({ instance: "kibana", extraDnsNames: ["kibana.elk.test"], loopback: true }),
    logstash: certificateNames({ instance: "logstash", loopback: false }),
};
const INSTANCE_NAMES = Object.keys(INSTANCES);

interface IssuedCertificate {
    certPem: string;
    privateKeyPem: string;
    privateKeyPemPkcs8: string;
    caCertPem: string;
    validityEndTime: string;
    /** Path of the certificate PEM in the temp dir. */
    file: string;
    cert: crypto.X509Certificate;
}

let dir: string;
let issuedAt: number;
let ca: CertificateAuthority;
let caPem: string;
let caKeyPem: string;
let caFile: string;
let caCert: crypto.X509Certificate;
let otherCaPem: string;
let otherCaFile: string;
let transportCaPem: string;
let transportCaFile: string;
const components: Record<string, InstanceCertificate> = {};
const issued: Record<string, IssuedCertificate> = {};
/** Inputs of every @pulumi/tls resource registered, by type token. */
const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

function openssl(args: string[]): { status: number | null; output: string } {
    const result = spawnSync("openssl", args, { encoding: "utf8", timeout: 30_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The extension blocks of a certificate as `openssl x509 -ext` prints them. */
function extensions(file: string): string {
    const result = openssl([
        "x509", "-in", file, "-noout",
        "-ext", "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier",
    ]);
    expect(result.status).toBe(0);
    return result.output;
}

/** The value printed under an extension's heading, and whether it is critical. */
function extension(text: string, heading: string): { critical: boolean; value: string } | undefined {
    const match = new RegExp(`${heading}:( critical)?\\s*\\n\\s*(.*)`).exec(text);
    return match ? { critical: match[1] !== undefined, value: match[2].trim() } : undefined;
}

/** An IP address in the form OpenSSL and node print SANs in (IPv6 fully expanded, no leading zeros). */
function canonicalIp(ip: string): string {
    if (!ip.includes(":")) {
        return ip;
    }
    const [head, tail] = ip.split("::");
    const headGroups = head ? head.split(":") : [];
    const tailGroups = tail ? tail.split(":") : [];
    const groups = ip.includes("::")
        ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
        : ip.split(":");
    return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

function sans(cert: crypto.X509Certificate): { dns: string[]; ips: string[] } {
    const entries = (cert.subjectAltName ?? "").split(", ");
    return {
        dns: entries.filter((e) => e.startsWith("DNS:")).map((e) => e.slice("DNS:".length)),
        ips: entries.filter((e) => e.startsWith("IP Address:")).map((e) => canonicalIp(e.slice("IP Address:".length))),
    };
}

beforeAll(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: async (args: pulumi.runtime.MockResourceArgs) => {
                const inputs = args.inputs as Record<string, unknown>;
                registered.push({ type: args.type, name: args.name, inputs });
                const state = await realTlsState(args.type, inputs);
                return { id: typeof state?.id === "string" ? state.id : `${args.name}-id`, state: state ?? inputs };
            },
            call: (args: pulumi.runtime.MockCallArgs) => args.inputs as Record<string, unknown>,
        },
        "elk-stack",
        "test",
        false,
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "certificates-test-"));
    issuedAt = Date.now();

    ca = new CertificateAuthority("ca", {
        commonName: "elk-stack test CA",
        organization: "elk-stack",
        validityHours: CA_HOURS,
        earlyRenewalHours: 30 * 24,
    });
    for (const [name, names] of Object.entries(INSTANCES)) {
        components[name] = new InstanceCertificate(name, {
            ca,
            commonName: name,
            dnsNames: names.dnsNames,
            ipAddresses: names.ipAddresses,
            validityHours: CERT_HOURS,
            earlyRenewalHours: 7 * 24,
        });
    }
    // The transport CA and an Elasticsearch transport certificate from it, as ElkStack makes them (names without loopback).
    const transportCa = new CertificateAuthority("transport-ca", {
        commonName: "elk-stack test transport CA",
        organization: "elk-stack",
        validityHours: CA_HOURS,
        earlyRenewalHours: 30 * 24,
    });
    components.transport = new InstanceCertificate("transport", {
        ca: transportCa,
        commonName: "es01",
        dnsNames: certificateNames({ instance: "es01", loopback: false }).dnsNames,
        validityHours: CERT_HOURS,
        earlyRenewalHours: 7 * 24,
        purpose: "peer",
    });
    // An ECDSA server certificate of the HTTP CA: its key usages must fit the algorithm.
    components.ecdsa = new InstanceCertificate("ecdsa", {
        ca,
        commonName: "kibana",
        dnsNames: ["kibana"],
        validityHours: CERT_HOURS,
        earlyRenewalHours: 0,
        keyAlgorithm: "ECDSA",
    });
    // A second, unrelated CA (ECDSA, so quick to generate) and a certificate it issues with es01's very names.
    const otherCa = new CertificateAuthority("other-ca", {
        commonName: "elk-stack test CA",
        validityHours: CA_HOURS,
        earlyRenewalHours: 0,
        keyAlgorithm: "ECDSA",
    });
    components.impostor = new InstanceCertificate("impostor", {
        ca: otherCa,
        commonName: "es01",
        dnsNames: INSTANCES.es01.dnsNames,
        ipAddresses: INSTANCES.es01.ipAddresses,
        validityHours: CERT_HOURS,
        earlyRenewalHours: 0,
        keyAlgorithm: "ECDSA",
    });

    const caOutputs = await resolveOutputs({ certPem: ca.certPem, privateKeyPem: ca.privateKeyPem });
    caPem = caOutputs.certPem;
    caKeyPem = caOutputs.privateKeyPem;
    caCert = new crypto.X509Certificate(caPem);
    caFile = path.join(dir, "ca.pem");
    fs.writeFileSync(caFile, caPem);
    otherCaPem = (await resolveOutputs({ certPem: otherCa.certPem })).certPem;
    transportCaPem = (await resolveOutputs({ certPem: transportCa.certPem })).certPem;
    transportCaFile = path.join(dir, "transport-ca.pem");
    fs.writeFileSync(transportCaFile, transportCaPem);
    otherCaFile = path.join(dir, "other-ca.pem");
    fs.writeFileSync(otherCaFile, otherCaPem);

    for (const [name, component] of Object.entries(components)) {
        const outputs = await resolveOutputs({
            certPem: component.certPem,
            privateKeyPem: component.privateKeyPem,
            privateKeyPemPkcs8: component.privateKeyPemPkcs8,
            caCertPem: component.caCertPem,
            validityEndTime: component.validityEndTime,
        });
        const file = path.join(dir, `${name}.pem`);
        fs.writeFileSync(file, outputs.certPem);
        fs.writeFileSync(path.join(dir, `${name}-key.pem`), outputs.privateKeyPemPkcs8, { mode: 0o600 });
        issued[name] = { ...outputs, file, cert: new crypto.X509Certificate(outputs.certPem) };
    }
});

afterAll(() => {
    if (dir) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

describe("CertificateAuthority", () => {
    test("is a self-signed CA: CA:TRUE (critical), keyCertSign and cRLSign, a subject key identifier", () => {
        expect(caCert.ca).toBe(true);
        expect(caCert.subject).toBe("O=elk-stack\nCN=elk-stack test CA");
        expect(caCert.issuer).toBe(caCert.subject);
        expect(caCert.verify(caCert.publicKey)).toBe(true);
        const text = extensions(caFile);
        expect(extension(text, "X509v3 Basic Constraints")).toEqual({ critical: true, value: "CA:TRUE" });
        expect(extension(text, "X509v3 Key Usage")).toEqual({
            critical: true,
            value: "Digital Signature, Certificate Sign, CRL Sign",
        });
        expect(extension(text, "X509v3 Extended Key Usage")).toBeUndefined();
        expect(extension(text, "X509v3 Subject Key Identifier")?.value).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    });

    test("has a PKCS#1 RSA-4096 key that matches its certificate", () => {
        expect(caKeyPem.startsWith("-----BEGIN RSA PRIVATE KEY-----\n")).toBe(true);
        const key = crypto.createPrivateKey(caKeyPem);
        expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
        expect(caCert.checkPrivateKey(key)).toBe(true);
    });

    test("asks for a path length of 0; the provider writes none (Go reads MaxPathLen 0 without MaxPathLenZero as no limit)", () => {
        const cas = registered.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert");
        expect(cas.map((r) => r.name).sort()).toEqual(["ca-cert", "other-ca-cert", "transport-ca-cert"]);
        for (const r of cas) expect(r.inputs).toMatchObject({ isCaCertificate: true, maxPathLength: 0 });
        // What the issued certificate then says: CA:TRUE without pathlen (tests/support/realTls.ts follows the provider).
        expect(extension(extensions(caFile), "X509v3 Basic Constraints")?.value).toBe("CA:TRUE");
    });

    test("is valid from now for validityHours", () => {
        expect(Math.abs(Date.parse(caCert.validFrom) - issuedAt)).toBeLessThan(ONE_MINUTE_MS);
        expect(Math.abs(Date.parse(caCert.validTo) - (issuedAt + CA_HOURS * 3_600_000))).toBeLessThan(ONE_MINUTE_MS);
    });
});

describe.each(INSTANCE_NAMES)("InstanceCertificate %s", (name) => {
    const requested = INSTANCES[name];

    test("verifies against the stack CA with openssl verify", () => {
        const result = openssl(["verify", "-CAfile", caFile, issued[name].file]);
        expect(result.output).toContain(`${issued[name].file}: OK`);
        expect(result.status).toBe(0);
        expect(issued[name].caCertPem).toBe(caPem);
    });

    test("does not verify against an unrelated CA", () => {
        const result = openssl(["verify", "-CAfile", otherCaFile, issued[name].file]);
        expect(result.status).not.toBe(0);
        expect(result.output).toContain("unable to get local issuer certificate");
    });

    test("has exactly the requested SANs and its name as common name", () => {
        const cert = issued[name].cert;
        expect(sans(cert)).toEqual({ dns: requested.dnsNames, ips: requested.ipAddresses.map(canonicalIp) });
        expect(cert.subject).toBe(`CN=${name}`);
        for (const dns of requested.dnsNames) {
            expect(cert.checkHost(dns)).toBe(dns);
        }
        for (const ip of requested.ipAddresses) {
            expect(cert.checkIP(ip)).toBe(ip);
        }
        expect(cert.checkHost("wrong-name")).toBeUndefined();
        expect(cert.checkIP("10.11.12.13")).toBeUndefined();
    });

    test("is a leaf for TLS servers only: CA:FALSE, digitalSignature + keyEncipherment (RSA), serverAuth and no clientAuth", () => {
        const cert = issued[name].cert;
        expect(cert.ca).toBe(false);
        expect(cert.keyUsage).toEqual([SERVER_AUTH]);
        const text = extensions(issued[name].file);
        expect(extension(text, "X509v3 Basic Constraints")).toEqual({ critical: true, value: "CA:FALSE" });
        expect(extension(text, "X509v3 Key Usage")).toEqual({ critical: true, value: "Digital Signature, Key Encipherment" });
        expect(extension(text, "X509v3 Extended Key Usage")?.value).toBe("TLS Web Server Authentication");
        // So it cannot authenticate as a TLS client, even to a server that trusts its CA.
        const asClient = openssl(["verify", "-CAfile", caFile, "-purpose", "sslclient", issued[name].file]);
        expect(asClient.status).not.toBe(0);
        expect(asClient.output).toContain("unsuitable certificate purpose");
        expect(openssl(["verify", "-CAfile", caFile, "-purpose", "sslserver", issued[name].file]).status).toBe(0);
    });

    test("names localhost only when asked to, and no loopback IP ever", () => {
        expect(issued[name].cert.checkHost("localhost")).toBe(name === "logstash" ? undefined : "localhost");
        expect(issued[name].cert.checkIP("127.0.0.1")).toBeUndefined();
        expect(issued[name].cert.checkIP("::1")).toBeUndefined();
    });

    test("is signed by the CA and names it as authority key identifier", () => {
        const cert = issued[name].cert;
        expect(cert.checkIssued(caCert)).toBe(true);
        expect(cert.verify(caCert.publicKey)).toBe(true);
        const caSkid = extension(extensions(caFile), "X509v3 Subject Key Identifier")?.value;
        expect(caSkid).toBeDefined();
        expect(extension(extensions(issued[name].file), "X509v3 Authority Key Identifier")?.value).toBe(caSkid);
    });

    test("is valid from now for validityHours, as validityEndTime says", () => {
        const cert = issued[name].cert;
        const expectedEnd = issuedAt + CERT_HOURS * 3_600_000;
        expect(Math.abs(Date.parse(cert.validFrom) - issuedAt)).toBeLessThan(ONE_MINUTE_MS);
        expect(Math.abs(Date.parse(cert.validTo) - expectedEnd)).toBeLessThan(ONE_MINUTE_MS);
        expect(Math.abs(Date.parse(issued[name].validityEndTime) - Date.parse(cert.validTo))).toBeLessThan(ONE_MINUTE_MS);
    });

    test("comes with its RSA key as PKCS#8 and as PKCS#1, both matching the certificate", () => {
        const { privateKeyPem, privateKeyPemPkcs8, cert } = issued[name];
        expect(privateKeyPemPkcs8.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
        expect(privateKeyPem.startsWith("-----BEGIN RSA PRIVATE KEY-----\n")).toBe(true);
        const pkcs8 = crypto.createPrivateKey(privateKeyPemPkcs8);
        const pkcs1 = crypto.createPrivateKey(privateKeyPem);
        expect(pkcs8.asymmetricKeyType).toBe("rsa");
        expect(pkcs8.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(cert.checkPrivateKey(pkcs8)).toBe(true);
        const spki = (key: crypto.KeyObject): Buffer =>
            (key.type === "public" ? key : crypto.createPublicKey(key)).export({ type: "spki", format: "der" });
        expect(spki(pkcs8).equals(spki(cert.publicKey))).toBe(true);
        expect(spki(pkcs1).equals(spki(cert.publicKey))).toBe(true);
    });

    test("keeps its keys secret and its certificate public", async () => {
        const component = components[name];
        expect(await pulumi.isSecret(component.privateKeyPem)).toBe(true);
        expect(await pulumi.isSecret(component.privateKeyPemPkcs8)).toBe(true);
        expect(await pulumi.isSecret(component.certPem)).toBe(false);
    });
});

test("the CA key is secret, the CA certificate public", async () => {
    expect(await pulumi.isSecret(ca.privateKeyPem)).toBe(true);
    expect(await pulumi.isSecret(ca.certPem)).toBe(false);
});

test("an ECDSA certificate has key usages that fit its key: digitalSignature, no keyEncipherment", () => {
    const { privateKeyPem, file, cert } = issued.ecdsa;
    expect(privateKeyPem.startsWith("-----BEGIN EC PRIVATE KEY-----\n")).toBe(true);
    expect(extension(extensions(file), "X509v3 Key Usage")).toEqual({ critical: true, value: "Digital Signature" });
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(openssl(["verify", "-CAfile", caFile, "-purpose", "sslserver", file]).status).toBe(0);
});

describe("Elasticsearch transport: its own CA, the only certificate with client authentication", () => {
    test("the transport certificate is a peer: serverAuth + clientAuth, from the transport CA, without loopback names", () => {
        const { file, cert } = issued.transport;
        expect(cert.keyUsage?.slice().sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
        expect(extension(extensions(file), "X509v3 Extended Key Usage")?.value).toBe("TLS Web Server Authentication, TLS Web Client Authentication");
        expect(sans(cert)).toEqual({ dns: ["es01"], ips: [] });
        for (const purpose of ["sslclient", "sslserver"]) {
            const result = openssl(["verify", "-CAfile", transportCaFile, "-purpose", purpose, file]);
            expect(result.output).toContain(`${file}: OK`);
        }
        expect(issued.transport.caCertPem).toBe(transportCaPem);
    });

    test("the two CAs vouch for nothing of each other's: an HTTP-CA or Kibana certificate fails to verify as a transport peer", () => {
        for (const name of [...INSTANCE_NAMES, "ecdsa"]) {
            for (const purpose of ["sslclient", "sslserver"]) {
                const result = openssl(["verify", "-CAfile", transportCaFile, "-purpose", purpose, issued[name].file]);
                expect({ name, purpose, status: result.status === 0 }).toEqual({ name, purpose, status: false });
                expect(result.output).toContain("unable to get local issuer certificate");
            }
        }
        const other = openssl(["verify", "-CAfile", caFile, issued.transport.file]);
        expect(other.status).not.toBe(0);
        expect(other.output).toContain("unable to get local issuer certificate");
    });

    describe("mutual TLS on 127.0.0.1 as the transport layer runs it (transport certificate, client certificate required from the transport CA)", () => {
        let server: TlsEchoServer;

        beforeAll(async () => {
            server = await startTlsEchoServer({ key: issued.transport.privateKeyPem, cert: issued.transport.certPem, clientCa: transportCaPem });
        });

        afterAll(async () => {
            await server?.close();
        });

        const client = (name?: string) =>
            connectTlsClient({
                port: server.port,
                ca: transportCaPem,
                servername: "es01",
                clientCert: name ? { key: issued[name].privateKeyPem, cert: issued[name].certPem } : undefined,
            });

        test("another node with a transport certificate is admitted", async () => {
            expect(await client("transport")).toEqual({ authorized: true, echoed: "ping" });
        });

        test.each(["kibana", "es01", "logstash"])("the %s certificate of the HTTP CA is refused as a peer", async (name) => {
            const before = server.refusals.length;
            const result = await client(name);
            expect(result.authorized).toBe(false);
            expect(result.echoed).toBeUndefined();
            // The server refused the client's certificate: its chain does not lead to the transport CA.
            expect(server.refusals.slice(before)).toEqual(["UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
        });

        test("a client without a certificate is refused", async () => {
            const before = server.refusals.length;
            const result = await client();
            expect(result.authorized).toBe(false);
            expect(result.echoed).toBeUndefined();
            // Node's code for "no client certificate at all".
            expect(server.refusals.slice(before)).toEqual(["UNABLE_TO_GET_ISSUER_CERT"]);
        });
    });
});

test("an unrelated CA's certificate, even with the same names, does not verify against the stack CA", () => {
    const impostor = issued.impostor;
    expect(impostor.privateKeyPem.startsWith("-----BEGIN EC PRIVATE KEY-----\n")).toBe(true);
    expect(sans(impostor.cert)).toEqual(sans(issued.es01.cert));
    // Control: it is a good certificate of the other CA.
    expect(openssl(["verify", "-CAfile", otherCaFile, impostor.file]).status).toBe(0);
    const result = openssl(["verify", "-CAfile", caFile, impostor.file]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("unable to get local issuer certificate");
});

describe("TLS on 127.0.0.1 with es01's key and certificate", () => {
    let server: TlsEchoServer;

    beforeAll(async () => {
        server = await startTlsEchoServer({ key: issued.es01.privateKeyPem, cert: issued.es01.certPem });
    });

    afterAll(async () => {
        await server?.close();
    });

    test("a client trusting the CA and expecting es01 completes the handshake and gets its byte back", async () => {
        const result = await connectTlsClient({ port: server.port, ca: caPem, servername: "es01" });
        expect(result).toEqual({ authorized: true, echoed: "ping" });
    });

    test("a client expecting another name refuses the certificate", async () => {
        const result = await connectTlsClient({ port: server.port, ca: caPem, servername: "wrong-name" });
        expect(result).toEqual({ authorized: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
    });

    test("a client verifying the name localhost accepts the certificate", async () => {
        // Connects to 127.0.0.1 (where the server listens) and checks the certificate against "localhost".
        const result = await connectTlsClient({ port: server.port, ca: caPem, servername: "localhost" });
        expect(result.authorized).toBe(true);
    });

    test("a client dialling the IP 127.0.0.1 refuses the certificate: no certificate names a loopback IP", async () => {
        const result = await connectTlsClient({ port: server.port, host: "127.0.0.1", ca: caPem });
        expect(result).toEqual({ authorized: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
    });

    test("a client trusting only another CA refuses the certificate", async () => {
        const result = await connectTlsClient({ port: server.port, ca: otherCaPem, servername: "es01" });
        expect(result.authorized).toBe(false);
        expect(result.error).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    });

    test("openssl s_client verifies the chain and the host name es01", async () => {
        const result = await opensslSClient({ port: server.port, caFile, verifyHostname: "es01", servername: "es01" });
        expect(result.timedOut).toBe(false);
        expect(result.output).toContain("Verify return code: 0 (ok)");
        expect(result.verifyReturnCode).toBe(0);
    });

    test("openssl s_client refuses a wrong host name", async () => {
        const result = await opensslSClient({ port: server.port, caFile, verifyHostname: "wrong-name" });
        expect(result.timedOut).toBe(false);
        expect(result.verifyReturnCode).toBeDefined();
        expect(result.verifyReturnCode).not.toBe(0);
        expect(result.exitCode).not.toBe(0);
    });
});

test("a server with the unrelated CA's certificate for es01 is refused by a client trusting the stack CA", async () => {
    const impostor = issued.impostor;
    const refused = await tlsHandshake({ key: impostor.privateKeyPem, cert: impostor.certPem, ca: caPem, servername: "es01" });
    expect(refused.authorized).toBe(false);
    expect(refused.error).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    // Control: the same server is accepted by a client trusting the CA that issued it.
    const accepted = await tlsHandshake({ key: impostor.privateKeyPem, cert: impostor.certPem, ca: otherCaPem, servername: "es01" });
    expect(accepted).toEqual({ authorized: true, echoed: "ping" });
});
