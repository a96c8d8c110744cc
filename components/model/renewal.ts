/** When the stack's certificates run out: what the `certificates` stack output reports and `verify` checks. */
import { X509Certificate } from "crypto";

const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";

/**
 * The earliest `notAfter` of the given PEM certificates, as an ISO 8601 UTC timestamp. Values that are not PEM
 * certificates (the placeholders of the offline `render`) are left out; undefined when none is left.
 */
export function earliestExpiry(pems: readonly string[]): string | undefined {
    const ends = pems.filter((pem) => pem.includes(PEM_CERTIFICATE)).map((pem) => new Date(new X509Certificate(pem).validTo).getTime());
    if (ends.some((t) => Number.isNaN(t))) throw new Error("a certificate has an unreadable expiry");
    return ends.length === 0 ? undefined : new Date(Math.min(...ends)).toISOString();
}
