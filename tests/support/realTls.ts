/**
 * Real key and certificate generation for the @pulumi/tls resources, for use in `pulumi.runtime.setMocks`.
 *
 * The mock runtime never runs the tls provider, so a component's certificates would otherwise be whatever the
 * mock echoes back. {@link realTlsState} computes the state the provider would return on create, following the
 * hashicorp/terraform-provider-tls semantics (which @pulumi/tls wraps): node's `crypto` generates keys, the
 * `openssl` CLI issues CSRs and certificates. The results are real: `openssl verify`, node's `tls` and any
 * other TLS client accept or reject them for the same reasons they would accept or reject the provider's.
 *
 * Provider semantics reproduced here (see the provider's docs and `internal/provider/common_cert.go`):
 * - `allowedUses` names map to key usages (critical extension) or extended key usages; unknown names are
 *   rejected like the provider's validator does.
 * - basicConstraints is always present and critical: CA:TRUE for `isCaCertificate`, otherwise CA:FALSE.
 * - a CA certificate always gets a subject key identifier (SHA-1 of the public key, RFC 5280 method 1, the same
 *   hash as the provider's); other certificates only with `setSubjectKeyId`.
 * - a locally signed certificate takes its subject and its DNS/IP/URI SANs from the CSR (nothing else from it)
 *   and gets the CA's subject key identifier as authority key identifier when the CA certificate has one.
 * - notBefore is now, notAfter now + `validityPeriodHours`; the id of a certificate is its decimal serial,
 *   a random positive number below 2^128.
 * - the private key PEM is PKCS#1 for RSA, SEC1 for ECDSA and PKCS#8 for ED25519.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadKeyPool } from "./keyPool";
import { openssl } from "./opensslRelayClient";

type State = Record<string, unknown>;

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const SELF_SIGNED_CERT = "tls:index/selfSignedCert:SelfSignedCert";
const CERT_REQUEST = "tls:index/certRequest:CertRequest";
const LOCALLY_SIGNED_CERT = "tls:index/locallySignedCert:LocallySignedCert";

/**
 * Output state of a @pulumi/tls resource created with `inputs` (mock inputs: camelCase names, values possibly
 * wrapped as secrets), or `undefined` when `type` is not one of PrivateKey, SelfSignedCert, CertRequest and
 * LocallySignedCert. Inputs are echoed as received, so secret inputs stay secret; the private key outputs that
 * the SDK registers as additional secret outputs come back wrapped as secrets, as the engine would make them.
 * Asynchronous, like the provider's create: openssl runs as a child process (of a relay: opensslRelayClient.ts) with
 * a deadline, and no key is generated on the event loop, so a test's timeout can always fire while a program is
 * evaluated.
 */
export async function realTlsState(type: string, inputs: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plain = unwrapSecrets(inputs) as State;
    switch (type) {
        case PRIVATE_KEY:
            return privateKeyState(plain);
        case SELF_SIGNED_CERT:
            return { ...inputs, ...(await selfSignedCertState(plain)) };
        case CERT_REQUEST:
            return { ...inputs, ...(await certRequestState(plain)) };
        case LOCALLY_SIGNED_CERT:
            return { ...inputs, ...(await locallySignedCertState(plain)) };
        default:
            return undefined;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Mock input handling

function isSecretEnvelope(value: unknown): value is { value: unknown } {
    return (
        typeof value === "object" &&
        value !== null &&
        (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
    );
}

function secret(value: unknown): Record<string, unknown> {
    return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

function unwrapSecrets(value: unknown): unknown {
    if (isSecretEnvelope(value)) {
        return unwrapSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

function optString(inputs: State, name: string): string | undefined {
    const value = inputs[name];
    if (value === undefined || value === null) {
        return undefined;
    }
    if (typeof value !== "string") {
        throw new Error(`${name} must be a string, got ${typeof value}`);
    }
    return value;
}

function reqString(inputs: State, name: string): string {
    const value = optString(inputs, name);
    if (value === undefined) {
        throw new Error(`${name} is required`);
    }
    return value;
}

function optNumber(inputs: State, name: string): number | undefined {
    const value = inputs[name];
    if (value === undefined || value === null) {
        return undefined;
    }
    if (typeof value !== "number") {
        throw new Error(`${name} must be a number, got ${typeof value}`);
    }
    return value;
}

function reqNumber(inputs: State, name: string): number {
    const value = optNumber(inputs, name);
    if (value === undefined) {
        throw new Error(`${name} is required`);
    }
    return value;
}

/** A private key input, or its write-only variant (`...Wo`), which is never echoed into the state. */
function keyPem(inputs: State, name: string): string {
    const value = optString(inputs, name) ?? optString(inputs, `${name}Wo`);
    if (value === undefined) {
        throw new Error(`${name} is required`);
    }
    return value;
}

function flag(inputs: State, name: string): boolean {
    return inputs[name] === true;
}

function stringList(inputs: State, name: string): string[] {
    const value = inputs[name];
    if (value === undefined || value === null) {
        return [];
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw new Error(`${name} must be a list of strings`);
    }
    return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys

/** Provider curve names to OpenSSL's, and to OpenSSH's where OpenSSH supports the curve (it has no P-224). */
const CURVES: Record<string, { openssl: string; ssh?: string; bytes: number; digest: string }> = {
    P224: { openssl: "secp224r1", bytes: 28, digest: "sha256" },
    P256: { openssl: "prime256v1", ssh: "nistp256", bytes: 32, digest: "sha256" },
    P384: { openssl: "secp384r1", ssh: "nistp384", bytes: 48, digest: "sha384" },
    P521: { openssl: "secp521r1", ssh: "nistp521", bytes: 66, digest: "sha512" },
};

function curveOf(key: crypto.KeyObject): (typeof CURVES)[string] {
    const named = key.asymmetricKeyDetails?.namedCurve;
    const curve = Object.values(CURVES).find((c) => c.openssl === named);
    if (!curve) {
        throw new Error(`unsupported ECDSA curve ${named}`);
    }
    return curve;
}

/** The provider's name for the algorithm of a key: RSA, ECDSA or ED25519. */
function algorithmOf(key: crypto.KeyObject): string {
    switch (key.asymmetricKeyType) {
        case "rsa":
            return "RSA";
        case "ec":
            return "ECDSA";
        case "ed25519":
            return "ED25519";
        default:
            throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
    }
}

/** The signature digest Go's x509 picks for a signing key; none for ED25519, which signs without one. */
function digestOf(key: crypto.KeyObject): string | undefined {
    if (key.asymmetricKeyType === "rsa") {
        return "sha256";
    }
    return key.asymmetricKeyType === "ec" ? curveOf(key).digest : undefined;
}

/**
 * A new private key from `openssl genpkey` (a child process, off the event loop), read back from its PEM.
 *
 * Not node's `generateKeyPair(Sync)`: on Node.js 20 (seen on 20.20.2) a key fresh from a key generation job
 * deadlocks the process when a garbage collection runs while the key is exported as JWK (as {@link sshKey} does):
 * the collection destroys the job, whose destructor locks the key's mutex, which the export holds, so the thread
 * waits on itself for ever (`node::crypto::KeyGenJob<...RsaKeyGenTraits>::~KeyGenJob` under
 * `KeyObjectHandle::ExportJWK`, caught with gdb in a jest worker that hung). That was the suite's hang: jest's
 * timeouts cannot fire in a blocked thread. A key read from PEM has no job behind it.
 */
async function genpkey(args: string[]): Promise<crypto.KeyObject> {
    return crypto.createPrivateKey(await openssl(os.tmpdir(), ["genpkey", ...args]));
}

async function generateKey(algorithm: string, rsaBits: number, ecdsaCurve: string): Promise<crypto.KeyObject> {
    switch (algorithm) {
        case "RSA":
            return pooledRsaKey(rsaBits) ?? genpkey(["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${rsaBits}`]);
        case "ECDSA": {
            const curve = CURVES[ecdsaCurve];
            if (!curve) {
                throw new Error(`invalid ECDSA curve ${ecdsaCurve}; supported: ${Object.keys(CURVES).join(", ")}`);
            }
            return genpkey(["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${curve.openssl}`, "-pkeyopt", "ec_param_enc:named_curve"]);
        }
        case "ED25519":
            return genpkey(["-algorithm", "ED25519"]);
        default:
            throw new Error(`invalid algorithm ${algorithm}; supported: RSA, ECDSA, ED25519`);
    }
}

/**
 * RSA keys of the sizes the stack asks for (4096 for a CA, 2048 for an instance), generated once (tests/support/
 * keyPool.ts, from jest's global setup) rather than per resource: generating them was most of the suite's CPU time,
 * and generating them on the event loop (as `generateKeyPairSync` did) kept jest's timeouts from firing meanwhile
 * (and could deadlock: see {@link genpkey}).
 * Keys are handed out in turn, so any {@link KEY_POOL_SIZES}[bits] keys asked for one after the other are different
 * keys (a program run asks for at most a few of each size); other sizes are generated as before.
 */
let pool: Map<number, crypto.KeyObject[]> | undefined;
const nextKey = new Map<number, number>();

function pooledRsaKey(bits: number): crypto.KeyObject | undefined {
    pool ??= loadKeyPool();
    const keys = pool.get(bits);
    if (!keys || keys.length === 0) return undefined;
    const i = nextKey.get(bits) ?? 0;
    nextKey.set(bits, (i + 1) % keys.length);
    return keys[i];
}

/** PEM encoding as Go's encoding/pem writes it: 64-character lines and a final newline. */
function pem(label: string, der: Buffer): string {
    const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The provider's private_key_pem: PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for ED25519. */
function privateKeyPem(key: crypto.KeyObject): string {
    switch (key.asymmetricKeyType) {
        case "rsa":
            return key.export({ type: "pkcs1", format: "pem" }).toString();
        case "ec":
            return key.export({ type: "sec1", format: "pem" }).toString();
        default:
            return key.export({ type: "pkcs8", format: "pem" }).toString();
    }
}

/** The DER inside a single-block PEM. */
function pemBody(text: string): Buffer {
    return Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

// OpenSSH wire encoding (RFC 4251 section 5): length-prefixed strings and mpints.
function sshString(data: Buffer | string): Buffer {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}

function sshMpint(unsigned: Buffer): Buffer {
    let start = 0;
    while (start < unsigned.length && unsigned[start] === 0) {
        start++;
    }
    const magnitude = unsigned.subarray(start);
    // A set high bit would read as negative: prefix a zero byte.
    return sshString(magnitude.length > 0 && magnitude[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), magnitude]) : magnitude);
}

function fromJwk(value: string | undefined, size?: number): Buffer {
    if (value === undefined) {
        throw new Error("incomplete JWK export");
    }
    const bytes = Buffer.from(value, "base64url");
    return size === undefined || bytes.length >= size ? bytes : Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

interface SshKey {
    type: string;
    /** The public key blob, as in authorized_keys. */
    blob: Buffer;
    /** The key-specific fields of the private section of an openssh-key-v1 file. */
    privateFields: Buffer;
}

/** The OpenSSH encoding of a key, or undefined where OpenSSH has none (ECDSA P-224): the provider then outputs "". */
function sshKey(key: crypto.KeyObject): SshKey | undefined {
    switch (key.asymmetricKeyType) {
        case "rsa": {
            const jwk = key.export({ format: "jwk" });
            const [n, e, d, p, q, iqmp] = [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.qi].map((v) => sshMpint(fromJwk(v)));
            return {
                type: "ssh-rsa",
                blob: Buffer.concat([sshString("ssh-rsa"), e, n]),
                privateFields: Buffer.concat([n, e, d, iqmp, p, q]),
            };
        }
        case "ec": {
            const curve = curveOf(key);
            if (curve.ssh === undefined) {
                return undefined;
            }
            const jwk = key.export({ format: "jwk" });
            const point = Buffer.concat([Buffer.from([4]), fromJwk(jwk.x, curve.bytes), fromJwk(jwk.y, curve.bytes)]);
            const type = `ecdsa-sha2-${curve.ssh}`;
            const pub = Buffer.concat([sshString(curve.ssh), sshString(point)]);
            return {
                type,
                blob: Buffer.concat([sshString(type), pub]),
                privateFields: Buffer.concat([pub, sshMpint(fromJwk(jwk.d))]),
            };
        }
        case "ed25519": {
            const jwk = key.export({ format: "jwk" });
            const pub = fromJwk(jwk.x);
            return {
                type: "ssh-ed25519",
                blob: Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]),
                // OpenSSH stores the 32-byte seed followed by the public key.
                privateFields: Buffer.concat([sshString(pub), sshString(Buffer.concat([fromJwk(jwk.d), pub]))]),
            };
        }
        default:
            return undefined;
    }
}

/** An unencrypted openssh-key-v1 private key file (the format of `ssh-keygen` and Go's ssh.MarshalPrivateKey). */
function opensshPrivateKey(ssh: SshKey): string {
    const check = crypto.randomBytes(4);
    let section = Buffer.concat([check, check, sshString(ssh.type), ssh.privateFields, sshString("")]);
    // Pad to the cipher block size (8 for "none") with the bytes 1, 2, 3, ...
    const padding: number[] = [];
    for (let i = 1; (section.length + padding.length) % 8 !== 0; i++) {
        padding.push(i);
    }
    section = Buffer.concat([section, Buffer.from(padding)]);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(1);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        count,
        sshString(ssh.blob),
        sshString(section),
    ]);
    return pem("OPENSSH PRIVATE KEY", body);
}

async function privateKeyState(inputs: State): Promise<State> {
    const algorithm = reqString(inputs, "algorithm");
    // The provider's defaults, which are in the state whatever the algorithm.
    const rsaBits = optNumber(inputs, "rsaBits") ?? 2048;
    const ecdsaCurve = optString(inputs, "ecdsaCurve") ?? "P224";
    const key = await generateKey(algorithm, rsaBits, ecdsaCurve);
    const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
    const ssh = sshKey(key);
    const md5 = ssh ? crypto.createHash("md5").update(ssh.blob).digest("hex").match(/../g)?.join(":") : undefined;
    return {
        algorithm,
        rsaBits,
        ecdsaCurve,
        // As the provider's id: hex SHA-1 of the DER public key.
        id: crypto.createHash("sha1").update(spki).digest("hex"),
        privateKeyPem: secret(privateKeyPem(key)),
        privateKeyPemPkcs8: secret(key.export({ type: "pkcs8", format: "pem" }).toString()),
        privateKeyOpenssh: secret(ssh ? opensshPrivateKey(ssh) : ""),
        publicKeyPem: pem("PUBLIC KEY", spki),
        publicKeyOpenssh: ssh ? `${ssh.type} ${ssh.blob.toString("base64")}\n` : "",
        publicKeyFingerprintMd5: md5 ?? "",
        publicKeyFingerprintSha256: ssh
            ? `SHA256:${crypto.createHash("sha256").update(ssh.blob).digest("base64").replace(/=+$/, "")}`
            : "",
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Certificates

const KEY_USAGES: Record<string, string> = {
    digital_signature: "digitalSignature",
    content_commitment: "nonRepudiation",
    key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment",
    key_agreement: "keyAgreement",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    encipher_only: "encipherOnly",
    decipher_only: "decipherOnly",
};

/** Extended key usages; the rarer ones by OID, which OpenSSL accepts whatever short names it knows. */
const EXTENDED_KEY_USAGES: Record<string, string> = {
    any_extended: "anyExtendedKeyUsage",
    server_auth: "serverAuth",
    client_auth: "clientAuth",
    code_signing: "codeSigning",
    email_protection: "emailProtection",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "timeStamping",
    ocsp_signing: "OCSPSigning",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

/** Subject fields in the order Go's pkix.Name writes them, with OpenSSL's attribute names. */
const SUBJECT_FIELDS: [string, string][] = [
    ["country", "C"],
    ["province", "ST"],
    ["locality", "L"],
    ["streetAddresses", "street"],
    ["postalCode", "postalCode"],
    ["organization", "O"],
    ["organizationalUnit", "OU"],
    ["commonName", "CN"],
    ["serialNumber", "serialNumber"],
    ["emailAddress", "emailAddress"],
];

/** The subject as an `openssl req -subj` argument; "/" for an empty subject. */
function subjectArg(subject: unknown): string {
    const fields = typeof subject === "object" && subject !== null ? (subject as State) : {};
    const parts: string[] = [];
    for (const [name, attribute] of SUBJECT_FIELDS) {
        const value = fields[name];
        const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
        for (const v of values) {
            // -subj treats "/" (and "+" with -multivalue-rdn) as separators; a backslash escapes.
            parts.push(`/${attribute}=${String(v).replace(/[\\/+]/g, (c) => `\\${c}`)}`);
        }
    }
    return parts.length > 0 ? parts.join("") : "/";
}

interface ExtensionOptions {
    isCa: boolean;
    maxPathLength?: number;
    allowedUses: string[];
    /** SAN entries in OpenSSL syntax: DNS:x, IP:x, URI:x. */
    sans: string[];
    subjectIsEmpty: boolean;
    subjectKeyId: boolean;
    /** "keyid" (from the issuer certificate, if it has one), "keyid:always", or none. */
    authorityKeyId?: string;
}

/** An OpenSSL extension file (section [ext]) with the extensions the provider's certificate would carry. */
function extensionFile(options: ExtensionOptions): string {
    const keyUsage: string[] = [];
    const extendedKeyUsage: string[] = [];
    for (const use of options.allowedUses) {
        if (KEY_USAGES[use]) {
            keyUsage.push(KEY_USAGES[use]);
        } else if (EXTENDED_KEY_USAGES[use]) {
            extendedKeyUsage.push(EXTENDED_KEY_USAGES[use]);
        } else {
            throw new Error(
                `invalid allowed use "${use}"; accepted: ${[...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].sort().join(", ")}`,
            );
        }
    }
    // Go writes a path length only when it is positive (the provider never sets MaxPathLenZero).
    const pathLen = options.isCa && (options.maxPathLength ?? 0) > 0 ? `,pathlen:${options.maxPathLength}` : "";
    const lines = ["[ext]", `basicConstraints = critical,CA:${options.isCa ? "TRUE" : "FALSE"}${pathLen}`];
    if (keyUsage.length > 0) {
        lines.push(`keyUsage = critical,${keyUsage.join(",")}`);
    }
    if (extendedKeyUsage.length > 0) {
        lines.push(`extendedKeyUsage = ${extendedKeyUsage.join(",")}`);
    }
    if (options.sans.length > 0) {
        // RFC 5280 4.2.1.6 (and Go): SANs are critical when the subject is empty.
        lines.push(`subjectAltName = ${options.subjectIsEmpty ? "critical," : ""}${options.sans.join(",")}`);
    }
    // OpenSSL 3 adds key identifiers by default; "none" keeps them out unless the provider would set them.
    lines.push(`subjectKeyIdentifier = ${options.subjectKeyId ? "hash" : "none"}`);
    lines.push(`authorityKeyIdentifier = ${options.authorityKeyId ?? "none"}`);
    return lines.join("\n") + "\n";
}

/** `openssl ca` wants a database and serial file; [req] is there so that `openssl req` ignores the system config. */
const OPENSSL_CONFIG = `
[req]
distinguished_name = req_dn
[req_dn]
[ca]
default_ca = tls_ca
[tls_ca]
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = default
unique_subject = no
# An empty policy with -preserveDN keeps the request's subject as it is.
policy = tls_policy
[tls_policy]
`;

async function withOpensslDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "real-tls-"));
    try {
        fs.writeFileSync(path.join(dir, "openssl.cnf"), OPENSSL_CONFIG);
        fs.writeFileSync(path.join(dir, "index.txt"), "");
        return await fn(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** ASN.1 time for `openssl ca`: UTCTime before 2050 and GeneralizedTime from then on, as RFC 5280 requires. */
function asn1Time(date: Date): string {
    const digits = date.toISOString().replace(/\.\d+Z$/, "").replace(/[-T:]/g, "");
    return (date.getUTCFullYear() < 2050 ? digits.slice(2) : digits) + "Z";
}

interface Issued {
    id: string;
    certPem: string;
    validityStartTime: string;
    validityEndTime: string;
}

interface IssueOptions {
    /** File name (in the working directory) of the CSR to sign. */
    csr: string;
    /** File name of the signing key. */
    signerKeyFile: string;
    signerKey: crypto.KeyObject;
    /** File name of the issuer's certificate; none for a self-signed certificate. */
    issuerCertFile?: string;
    validityHours: number;
    /** Extension file, from {@link extensionFile}. */
    extensions: string;
}

/**
 * Signs a CSR with `openssl ca`, rather than `openssl x509 -req`, because only `ca` takes an exact end date in
 * OpenSSL 3.0: validity is in hours, `-days` in days.
 */
async function issue(dir: string, options: IssueOptions): Promise<Issued> {
    const start = new Date();
    const end = new Date(start.getTime() + options.validityHours * 3600 * 1000);
    // As Go: a random serial in [1, 2^128); the provider's id is its decimal form.
    const serial = crypto.randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    fs.writeFileSync(path.join(dir, "serial"), serial.toString("hex") + "\n");
    fs.writeFileSync(path.join(dir, "ext.cnf"), options.extensions);
    const digest = digestOf(options.signerKey);
    await openssl(dir, [
        "ca", "-batch", "-config", "openssl.cnf", "-notext", "-preserveDN",
        ...(options.issuerCertFile ? ["-cert", options.issuerCertFile] : ["-selfsign"]),
        "-keyfile", options.signerKeyFile,
        ...(digest ? ["-md", digest] : []),
        "-in", options.csr, "-out", "cert.pem",
        "-startdate", asn1Time(start), "-enddate", asn1Time(end),
        "-extfile", "ext.cnf", "-extensions", "ext",
    ]);
    return {
        id: BigInt(`0x${serial.toString("hex")}`).toString(10),
        certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"),
        validityStartTime: start.toISOString(),
        validityEndTime: end.toISOString(),
    };
}

function writeKey(dir: string, name: string, key: crypto.KeyObject): string {
    fs.writeFileSync(path.join(dir, name), key.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    return name;
}

/** A CSR for `key` with `subject` and SANs; the SAN extension is only there when there are SANs. */
async function createCsr(dir: string, key: crypto.KeyObject, subject: unknown, sans: string[]): Promise<string> {
    const keyFile = writeKey(dir, "csr-key.pem", key);
    const digest = digestOf(key);
    await openssl(dir, [
        "req", "-new", "-config", "openssl.cnf", "-utf8", ...(digest ? [`-${digest}`] : []),
        "-key", keyFile, "-subj", subjectArg(subject),
        ...(sans.length > 0 ? ["-addext", `subjectAltName = ${sans.join(",")}`] : []),
        "-out", "req.csr",
    ]);
    return "req.csr";
}

function sanEntries(inputs: State): string[] {
    return [
        ...stringList(inputs, "dnsNames").map((n) => `DNS:${n}`),
        ...stringList(inputs, "ipAddresses").map((ip) => `IP:${ip}`),
        ...stringList(inputs, "uris").map((u) => `URI:${u}`),
    ];
}

function hasSubject(subject: unknown): boolean {
    return subjectArg(subject) !== "/";
}

function certificateDefaults(inputs: State): State {
    // Optional inputs the provider fills in with their defaults.
    return {
        earlyRenewalHours: optNumber(inputs, "earlyRenewalHours") ?? 0,
        isCaCertificate: flag(inputs, "isCaCertificate"),
        setSubjectKeyId: flag(inputs, "setSubjectKeyId"),
        // Computed at plan time from early_renewal_hours; a certificate just issued is not due.
        readyForRenewal: false,
    };
}

async function selfSignedCertState(inputs: State): Promise<State> {
    const key = crypto.createPrivateKey(keyPem(inputs, "privateKeyPem"));
    const isCa = flag(inputs, "isCaCertificate");
    const subjectKeyId = isCa || flag(inputs, "setSubjectKeyId");
    if (isCa && !hasSubject(inputs.subject)) {
        // RFC 5280 4.1.2.6, enforced by the provider.
        throw new Error("Must contain at least one Distinguished Name when creating Certificate Authority (CA)");
    }
    if (flag(inputs, "setAuthorityKeyId") && !subjectKeyId) {
        throw new Error("Could not determine Authority Key Identifier");
    }
    const issued = await withOpensslDir(async (dir) => {
        const csr = await createCsr(dir, key, inputs.subject, []);
        const extensions = extensionFile({
            isCa,
            maxPathLength: optNumber(inputs, "maxPathLength"),
            allowedUses: stringList(inputs, "allowedUses"),
            sans: sanEntries(inputs),
            subjectIsEmpty: !hasSubject(inputs.subject),
            subjectKeyId,
            // For a self-signed certificate the authority key id is its own subject key id.
            authorityKeyId: flag(inputs, "setAuthorityKeyId") ? "keyid:always" : undefined,
        });
        return issue(dir, {
            csr,
            signerKeyFile: "csr-key.pem",
            signerKey: key,
            validityHours: reqNumber(inputs, "validityPeriodHours"),
            extensions,
        });
    });
    return {
        ...certificateDefaults(inputs),
        setAuthorityKeyId: flag(inputs, "setAuthorityKeyId"),
        keyAlgorithm: algorithmOf(key),
        ...issued,
    };
}

async function certRequestState(inputs: State): Promise<State> {
    const key = crypto.createPrivateKey(keyPem(inputs, "privateKeyPem"));
    const certRequestPem = await withOpensslDir(async (dir) => {
        const csr = await createCsr(dir, key, inputs.subject, sanEntries(inputs));
        return fs.readFileSync(path.join(dir, csr), "utf8");
    });
    return {
        // The provider's id for a CSR: hex SHA-1 of its DER.
        id: crypto.createHash("sha1").update(pemBody(certRequestPem)).digest("hex"),
        keyAlgorithm: algorithmOf(key),
        certRequestPem,
    };
}

/** The DNS, IP and URI SANs of a CSR (the only SANs the provider copies), from `openssl req -text`. */
async function csrSubjectAndSans(dir: string, csr: string): Promise<{ subjectIsEmpty: boolean; sans: string[] }> {
    const text = await openssl(dir, ["req", "-in", csr, "-noout", "-text"]);
    const subject = /^\s*Subject:(.*)$/m.exec(text)?.[1]?.trim() ?? "";
    const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(text)?.[1] ?? "";
    const sans = sanLine
        .split(", ")
        .map((entry) => entry.trim())
        .flatMap((entry) => {
            if (entry.startsWith("DNS:") || entry.startsWith("URI:")) {
                return [entry];
            }
            // OpenSSL prints "IP Address:0:0:0:0:0:0:0:1" and reads "IP:0:0:0:0:0:0:0:1".
            return entry.startsWith("IP Address:") ? [`IP:${entry.slice("IP Address:".length)}`] : [];
        });
    return { subjectIsEmpty: subject === "", sans };
}

async function locallySignedCertState(inputs: State): Promise<State> {
    const caKey = crypto.createPrivateKey(keyPem(inputs, "caPrivateKeyPem"));
    const issued = await withOpensslDir(async (dir) => {
        fs.writeFileSync(path.join(dir, "req.csr"), reqString(inputs, "certRequestPem"));
        fs.writeFileSync(path.join(dir, "ca.pem"), reqString(inputs, "caCertPem"));
        const { subjectIsEmpty, sans } = await csrSubjectAndSans(dir, "req.csr");
        const isCa = flag(inputs, "isCaCertificate");
        const extensions = extensionFile({
            isCa,
            maxPathLength: optNumber(inputs, "maxPathLength"),
            allowedUses: stringList(inputs, "allowedUses"),
            sans,
            subjectIsEmpty,
            subjectKeyId: isCa || flag(inputs, "setSubjectKeyId"),
            // Go sets the authority key id from the issuer's subject key id when the issuer has one.
            authorityKeyId: "keyid",
        });
        return issue(dir, {
            csr: "req.csr",
            signerKeyFile: writeKey(dir, "ca-key.pem", caKey),
            signerKey: caKey,
            issuerCertFile: "ca.pem",
            validityHours: reqNumber(inputs, "validityPeriodHours"),
            extensions,
        });
    });
    return { ...certificateDefaults(inputs), caKeyAlgorithm: algorithmOf(caKey), ...issued };
}
