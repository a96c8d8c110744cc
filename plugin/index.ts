/**
 * The plugin's entry point. The Pulumi CLI runs it with the Node.js language host (PulumiPlugin.yaml) when a program
 * in any language uses the package (`pulumi package add`): `node @pulumi/pulumi/cmd/run-plugin <this folder>`, which
 * loads the `main` of ./package.json, this file. It serves the component provider and prints the port it listens on.
 */
import { main } from "@pulumi/pulumi/provider";
import { ElkProvider } from "./provider";

void main(new ElkProvider(__dirname), process.argv.slice(2));
