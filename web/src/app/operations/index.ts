// Every operation the app sends, in one folder: the schema's contract as this app uses it, one
// module a responsibility, each re-exported here for the app to import. Each operation is
// exported from its module: `make web` writes the persisted-operations manifest (PQ-3, the
// allow-list) from the exports of every module of this folder (web/scripts/persisted-manifest.mjs),
// so an operation defined elsewhere would be refused in allow-list mode.
export * from "./accounts";
export * from "./deliveries";
export * from "./disputes";
export * from "./entry";
export * from "./events";
export * from "./fragments";
export * from "./listings";
export * from "./orders";
export * from "./passes";
export * from "./sellers";
export * from "./payouts";
export * from "./refunds";
export * from "./tickets";
