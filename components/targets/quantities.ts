/**
 * Resource quantities written the way the Kubernetes API's Go types write them back: with the largest suffix that
 * keeps a whole number (`2048Mi` is `2Gi`, `1000m` is `1`).
 *
 * Why it matters on the eck engine: the operator updates our custom resources with a full read-modify-write
 * (`client.Update`, e.g. the cluster UUID annotation in cloud-on-k8s pkg/controller/elasticsearch/bootstrap/
 * bootstrap.go), which decodes every quantity into a `resource.Quantity` and encodes it again. A quantity keeps its
 * text only when it is already canonical (k8s.io/apimachinery pkg/api/resource/quantity.go, ParseQuantity caches
 * the string only then; MarshalJSON writes CanonicalizeBytes otherwise). A value the update rewrites moves to the
 * operator's field manager ("whenever a field's value does change, ownership moves ... to the manager making the
 * change", Kubernetes' Server-Side Apply documentation), and the provider's next server-side apply of the old text
 * would then conflict with it. Canonical text is never rewritten.
 */

const BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

/** `amount` of the binary unit at `start` (1 Mi, 2 Gi), moved up while it stays a whole number of the next unit. */
function binary(amount: number, start: number): string {
    if (!Number.isInteger(amount) || amount < 0) throw new Error(`${amount} is not a whole, non-negative number`);
    if (amount === 0) return "0";
    let n = amount;
    let i = start;
    while (n % 1024 === 0 && i < BINARY_SUFFIXES.length - 1) {
        n /= 1024;
        i++;
    }
    return `${n}${BINARY_SUFFIXES[i]}`;
}

/** `mib` mebibytes: `1536Mi`, `2Gi`. */
export function mebibytes(mib: number): string {
    return binary(mib, 2);
}

/** `gib` gibibytes: `30Gi`, `1Ti`. */
export function gibibytes(gib: number): string {
    return binary(gib, 3);
}

/** `millis` thousandths of a CPU: `500m`, `1`, `1500m`, `2`. */
export function millicores(millis: number): string {
    if (!Number.isInteger(millis) || millis < 0) throw new Error(`${millis} is not a whole, non-negative number of millicores`);
    if (millis === 0) return "0";
    if (millis % 1000 !== 0) return `${millis}m`;
    let n = millis / 1000;
    const suffixes = ["", "k", "M", "G", "T", "P", "E"];
    let i = 0;
    while (n % 1000 === 0 && i < suffixes.length - 1) {
        n /= 1000;
        i++;
    }
    return `${n}${suffixes[i]}`;
}
