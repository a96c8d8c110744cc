/** The certificate authority and per-instance certificates as @pulumi/tls resources; names and uses come from components/model/certificates.ts. */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { CA_CERT_USES, type CertificatePurpose, type KeyAlgorithm, instanceCertUses } from "../model/certificates";

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
    /** DNS subject alternative names (see `certificateNames`). */
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
