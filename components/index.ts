/**
 * The elk-stack component library. Import from here to build your own stack, or one part of it:
 *
 *     import { ElkStack, CertificateAuthority, DockerPlatform } from "elk-stack/components";
 */
export * from "./bootstrap";
export * from "./certificates";
export * from "./config";
export * from "./elasticsearch";
export * from "./elkStack";
export * from "./indexing";
export * from "./kernel";
export * from "./kibana";
export * from "./kibanaObjects";
export * from "./logstash";
export * from "./shellScripts";
export * from "./sources";
export * from "./spec";
export * from "./stackConfig";
export * from "./targets";
export * from "./verify";
export * from "./wiring";
