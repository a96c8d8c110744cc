import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Key algorithm for generated keys. RSA is the default: every Elastic component and client reads it. */
export type KeyAlgorithm = "RSA" | "ECDSA";

/** Subject alternative names of one instance certificate. */
export interface CertificateNames {
    readonly dnsNames: string[];
    readonly ipAddresses: string[];
}

/** What a platform says about how clients reach an instance; input of {@link certificateNames}. */
export interface CertificateNamesInput {
    /** The instance name (es01, kibana, logstash, ...), always the first DNS name. */
    readonly instance: string;
    /** Further DNS names clients use (Kubernetes service and pod names, a public host name). */
    readonly extraDnsNames?: readonly string[];
    /**
     * Whether a client dials the instance as `localhost`: a health check or probe inside its own container, a port
     * published on the Docker host, a `kubectl port-forward`. Adds the name `localhost` only: no client of the stack
     * dials 127.0.0.1 or ::1 over TLS, so no certificate names them.
     */
    readonly loopback: boolean;
    /** Extra IP addresses clients connect to (a specific host bind address). */
    readonly extraIpAddresses?: readonly string[];
}

/**
 * The SANs an instance certificate needs so that every client that verifies host names accepts it.
 * Pure, so that tests and the `render` command see exactly what the program requests.
 */
export function certificateNames(input: CertificateNamesInput): CertificateNames {
    const dns = [input.instance, ...(input.extraDnsNames ?? []), ...(input.loopback ? ["localhost"] : [])];
    const unspecified = new Set(["0.0.0.0", "::"]);
    return {
        dnsNames: [...new Set(dns)],
        ipAddresses: [...new Set(input.extraIpAddresses ?? [])].filter((ip) => !unspecified.has(ip)),
    };
}

/**
 * What an instance certificate is for. `server`: it serves TLS (Elasticsearch HTTP, Kibana, Logstash's inputs);
 * no client of the stack authenticates with a certificate on those connections. `peer`: it also authenticates as a
 * TLS client, which only Elasticsearch nodes do, to each other on the transport port.
 */
export type CertificatePurpose = "server" | "peer";

/**
 * Key usages of an instance certificate. `key_encipherment` only for RSA (the RSA key exchange of TLS 1.2 and
 * earlier): an end-entity EC certificate may assert only digitalSignature, nonRepudiation and keyAgreement
 * (RFC 5480 section 3).
 */
export function instanceCertUses(algorithm: KeyAlgorithm, purpose: CertificatePurpose): string[] {
    return ["digital_signature", ...(algorithm === "RSA" ? ["key_encipherment"] : []), "server_auth", ...(purpose === "peer" ? ["client_auth"] : [])];
}
/** Uses of a CA certificate. */
export const CA_CERT_USES = ["cert_signing", "crl_signing", "digital_signature"];

function newKey(name: string, algorithm: KeyAlgorithm, rsaBits: number, opts: pulumi.CustomResourceOptions): tls.PrivateKey {
    return new tls.PrivateKey(
        name,
        algorithm === "RSA" ? { algorithm, rsaBits } : { algorithm, ecdsaCurve: "P256" },
        { ...opts, additionalSecretOutputs: ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"] },
    );
}

/** Arguments of {@link CertificateAuthority}. */
export interface CertificateAuthorityArgs {
    /** Subject common name of the CA. */
    commonName: pulumi.Input<string>;
    /** Subject organisation. */
    organization?: pulumi.Input<string>;
    /** Validity of the CA certificate in hours. */
    validityHours: pulumi.Input<number>;
    /** A `pulumi up` within this many hours of expiry re-issues the CA (and so every certificate). */
    earlyRenewalHours: pulumi.Input<number>;
    /** Key algorithm; RSA by default. */
    keyAlgorithm?: KeyAlgorithm;
}

/**
 * A private certificate authority for one stack. Its certificate is public (clients need it to trust the
 * stack); its key is a Pulumi secret and never leaves the Pulumi state.
 */
export class CertificateAuthority extends pulumi.ComponentResource {
    /** PEM of the CA certificate: give it to every client of the stack. */
    readonly certPem: pulumi.Output<string>;
    /** PEM of the CA key (secret). */
    readonly privateKeyPem: pulumi.Output<string>;
    /** Key algorithm of the CA key, needed to sign with it. */
    readonly keyAlgorithm: KeyAlgorithm;

    constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:CertificateAuthority", name, {}, opts);
        this.keyAlgorithm = args.keyAlgorithm ?? "RSA";
        const key = newKey(`${name}-key`, this.keyAlgorithm, 4096, { parent: this });
        const cert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                // The CA signs leaf certificates only. Requested for intent; hashicorp/terraform-provider-tls
                // (internal/provider/common_cert.go) copies 0 into Go's x509 MaxPathLen without MaxPathLenZero, which Go
                // reads as "no limit", so the issued certificate carries no pathLenConstraint (see docs/security.md).
                maxPathLength: 0,
                subject: { commonName: args.commonName, organization: args.organization },
                validityPeriodHours: args.validityHours,
                earlyRenewalHours: args.earlyRenewalHours,
                allowedUses: CA_CERT_USES,
                setSubjectKeyId: true,
            },
            { parent: this },
        );
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.registerOutputs({ certPem: this.certPem, privateKeyPem: this.privateKeyPem });
    }
}

/** Arguments of {@link InstanceCertificate}. */
export interface InstanceCertificateArgs {
    /** The CA that signs the certificate. */
    ca: CertificateAuthority;
    /** Subject common name; the instance name. */
    commonName: pulumi.Input<string>;
    /** DNS subject alternative names (see {@link certificateNames}). */
    dnsNames: pulumi.Input<pulumi.Input<string>[]>;
    /** IP subject alternative names. */
    ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
    /** Validity in hours. */
    validityHours: pulumi.Input<number>;
    /** A `pulumi up` within this many hours of expiry issues a new certificate. */
    earlyRenewalHours: pulumi.Input<number>;
    /** Key algorithm; RSA by default. */
    keyAlgorithm?: KeyAlgorithm;
    /** `server` (the default) or `peer`, which may also authenticate as a TLS client (see {@link CertificatePurpose}). */
    purpose?: CertificatePurpose;
}

/**
 * A key and a certificate for one instance (es01, kibana, logstash, ...), signed by a CA of the stack, for a TLS
 * server, and also a TLS client when its purpose is `peer`. Keys are secrets; the PKCS#8 form is there for Logstash's TLS inputs,
 * which only read PKCS#8.
 */
export class InstanceCertificate extends pulumi.ComponentResource {
    /** PEM of the certificate. */
    readonly certPem: pulumi.Output<string>;
    /** PEM of the key in the provider's default encoding (PKCS#1 for RSA) (secret). */
    readonly privateKeyPem: pulumi.Output<string>;
    /** PEM of the key as PKCS#8 (secret). */
    readonly privateKeyPemPkcs8: pulumi.Output<string>;
    /** PEM of the CA certificate that signed it, for convenience. */
    readonly caCertPem: pulumi.Output<string>;
    /** When the certificate stops being valid (RFC 3339). */
    readonly validityEndTime: pulumi.Output<string>;

    constructor(name: string, args: InstanceCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:InstanceCertificate", name, {}, opts);
        const algorithm = args.keyAlgorithm ?? "RSA";
        const key = newKey(`${name}-key`, algorithm, 2048, { parent: this });
        const csr = new tls.CertRequest(
            `${name}-csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.commonName },
                dnsNames: args.dnsNames,
                ipAddresses: args.ipAddresses ?? [],
            },
            { parent: this },
        );
        const cert = new tls.LocallySignedCert(
            `${name}-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: args.ca.privateKeyPem,
                caCertPem: args.ca.certPem,
                validityPeriodHours: args.validityHours,
                earlyRenewalHours: args.earlyRenewalHours,
                allowedUses: instanceCertUses(algorithm, args.purpose ?? "server"),
                setSubjectKeyId: true,
            },
            { parent: this },
        );
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.privateKeyPemPkcs8 = pulumi.secret(key.privateKeyPemPkcs8);
        this.caCertPem = args.ca.certPem;
        this.validityEndTime = cert.validityEndTime;
        this.registerOutputs({
            certPem: this.certPem,
            privateKeyPem: this.privateKeyPem,
            privateKeyPemPkcs8: this.privateKeyPemPkcs8,
            validityEndTime: this.validityEndTime,
        });
    }
}
