

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
