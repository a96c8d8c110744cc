/**
 * The order of a target's resources (components/targets/ordering.ts), under the mock runtime: a dependant's
 * registration names every resource and step it waits for as a dependency, whatever form its `dependsOn` takes,
 * the `dependsOn` Output holds no resource (the SDK walks the value of every Output it resolves), and a failed step
 * stops the dependant from being sent at all.
 */
import type * as pulumiType from "@pulumi/pulumi";
import { type ProgramRun, runProgram } from "./support/program";

type Pulumi = typeof pulumiType;
type Ordering = typeof import("../components/targets/ordering");

/** Runs `build` as the program, with the SDK and the ordering module of the run, and records what it sends. */
async function evaluate(
    build: (pulumi: Pulumi, ordering: Ordering, sent: string[]) => Record<string, unknown>,
    preview = false,
): Promise<{ run?: ProgramRun; error?: unknown; sent: string[] }> {
    const sent: string[] = [];
    try {
        const run = await runProgram({}, {
            preview,
            program: async () => {
                const pulumi = await import("@pulumi/pulumi");
                const ordering = await import("../components/targets/ordering");
                // What reaches the engine: the harness's monitor, wrapped once more.
                const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: { getName(): string }, cb: unknown): void };
                const register = monitor.registerResource.bind(monitor);
                monitor.registerResource = (req, cb) => {
                    sent.push(req.getName());
                    register(req, cb);
                };
                return build(pulumi, ordering, sent);
            },
        });
        return { run, sent };
    } catch (error) {
        return { error, sent };
    }
}

/** A custom resource of a type no provider has: the mock runtime registers it like any other. */
function thing(pulumi: Pulumi, name: string, opts?: pulumiType.CustomResourceOptions): pulumiType.CustomResource {
    class Thing extends pulumi.CustomResource {}
    return new Thing("test:index:Thing", name, {}, opts);
}

/** The names of the resources `name` was registered depending on. */
function dependenciesOf(run: ProgramRun, name: string): string[] {
    const r = run.resources.find((x) => x.name === name);
    if (!r) throw new Error(`${name} was not registered`);
    return r.dependencies.map((urn) => urn.split("::").pop() ?? urn).sort();
}

test("a dependant depends on the resources, the steps and the extra resources it waits for, in every form dependsOn takes", async () => {
    const { run, error } = await evaluate((pulumi, { afterSteps, waitingFor }) => {
        const [a, b, extra, listed, done] = ["a", "b", "extra", "listed", "step"].map((n) => thing(pulumi, n));
        const step = { done, succeeded: done.urn.apply(() => true) };
        thing(pulumi, "after-list", { dependsOn: afterSteps([a, b], [step], [extra]) });
        // An Output of a list (as a caller may give), an Output of one resource in the list, another waitingFor.
        thing(pulumi, "after-output", { dependsOn: afterSteps(pulumi.output([listed]), []) });
        thing(pulumi, "after-element-output", { dependsOn: afterSteps([pulumi.output(listed)], []) });
        thing(pulumi, "after-nested", { dependsOn: afterSteps(waitingFor([a], [b]), [step]) });
        thing(pulumi, "gated", { dependsOn: waitingFor(undefined, [a], [pulumi.output(true)]) });
        return { value: afterSteps([a], [step], [extra]) };
    });
    expect(error).toBeUndefined();
    const r = run as ProgramRun;
    expect(dependenciesOf(r, "after-list")).toEqual(["a", "b", "extra", "step"]);
    expect(dependenciesOf(r, "after-output")).toEqual(["listed"]);
    expect(dependenciesOf(r, "after-element-output")).toEqual(["listed"]);
    expect(dependenciesOf(r, "after-nested")).toEqual(["a", "b", "step"]);
    expect(dependenciesOf(r, "gated")).toEqual(["a"]);
    // The Output holds no resource: the resources ride on its dependencies.
    expect(r.outputs.value).toEqual({ value: [], secret: false });
});

test("a failed step fails the program, and the resource that waited for it is never sent", async () => {
    const { error, sent } = await evaluate((pulumi, { afterSteps }) => {
        const done = thing(pulumi, "step");
        const failed = {
            done,
            succeeded: done.urn.apply((): boolean => {
                throw new pulumi.RunError("the step (container step) exited with code 1");
            }),
        };
        thing(pulumi, "dependant", { dependsOn: afterSteps([], [failed]) });
        thing(pulumi, "independent");
        return {};
    });
    expect((error as Error | undefined)?.message).toContain("the step (container step) exited with code 1");
    expect(sent).toContain("step");
    expect(sent).toContain("independent");
    expect(sent).not.toContain("dependant");
});

test("a component, a promise or a resource given plainly: the same dependencies as a plain dependsOn of them", async () => {
    const { run, error } = await evaluate((pulumi, { afterSteps }) => {
        class Group extends pulumi.ComponentResource {
            constructor(name: string) {
                super("test:index:Group", name, {}, {});
                thing(pulumi, `${name}-child`, { parent: this });
                this.registerOutputs({});
            }
        }
        const group = new Group("group");
        const a = thing(pulumi, "a");
        thing(pulumi, "plain", { dependsOn: [group, a] });
        thing(pulumi, "after-component", { dependsOn: afterSteps([group, a], []) });
        thing(pulumi, "after-promise", { dependsOn: afterSteps([Promise.resolve(group), Promise.resolve(a)], []) });
        return {};
    });
    expect(error).toBeUndefined();
    const r = run as ProgramRun;
    expect(dependenciesOf(r, "plain")).toContain("group-child");
    expect(dependenciesOf(r, "after-component")).toEqual(dependenciesOf(r, "plain"));
    expect(dependenciesOf(r, "after-promise")).toEqual(dependenciesOf(r, "plain"));
});

test("in a preview, where a step's result is not known yet, the dependant still depends on everything it waits for", async () => {
    const { run, error } = await evaluate((pulumi, { afterSteps }) => {
        const [a, extra, done] = ["a", "extra", "step"].map((n) => thing(pulumi, n));
        // A step whose result only the update tells: unknown in a preview, as a new container's exit code is.
        const step = { done, succeeded: pulumi.output(pulumi.unknown) as unknown as pulumiType.Output<boolean> };
        thing(pulumi, "after-unknown", { dependsOn: afterSteps([a], [step], [extra]) });
        return {};
    }, true);
    expect(error).toBeUndefined();
    expect(dependenciesOf(run as ProgramRun, "after-unknown")).toEqual(["a", "extra", "step"]);
});

test("an entry that is not a resource is refused with the SDK's own message", async () => {
    const { error } = await evaluate((pulumi, { afterSteps }) => {
        thing(pulumi, "refused", { dependsOn: afterSteps([pulumi.output({ not: "a resource" }) as unknown as pulumiType.Output<pulumiType.Resource>], []) });
        return {};
    });
    expect((error as Error | undefined)?.message).toBe("'dependsOn' was passed a value that was not a Resource.");
});
