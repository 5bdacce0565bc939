// The web app's persisted-query manifest (docs/api.md PQ-3, PQ-4): every operation exported by
// a module of src/app/operations/ (scripts/persisted-manifest.mjs hands each module in), with the
// exact text the app sends for it and that text's SHA-256, in Apollo's manifest format. The
// gateway's allow-list mode runs these (and registered clients') and nothing else, so a body here
// must be byte for byte what the client hashes and sends.
//
// That text is not the source's: it is what urql makes of the document on its way to the
// network. The app's client (src/app/client.ts) puts urql's cacheExchange first, which adds
// `__typename` to queries' and mutations' selections (formatDocument), and the persisted exchange
// after it hashes @urql/core's stringifyDocument of the document it receives. So each operation
// is dispatched here through a real urql Client with the same cacheExchange in front, and the
// text recorded is stringifyDocument of what comes out of it: the document the persisted exchange
// sees. Subscriptions go through unchanged (cacheExchange leaves them alone) and are sent by text.
//
// Bundled by esbuild and run by scripts/persisted-manifest.mjs (the last step of `npm run build`).
import {
  Client,
  cacheExchange,
  createRequest,
  mapExchange,
  stringifyDocument,
  type AnyVariables,
  type DocumentInput,
  type OperationType,
} from "@urql/core";
import { createHash } from "node:crypto";

export interface ManifestOperation {
  id: string;
  name: string;
  type: OperationType;
  body: string;
}

export interface Manifest {
  format: "apollo-persisted-query-manifest";
  version: 1;
  operations: ManifestOperation[];
}

interface Definition {
  kind: string;
  operation?: OperationType;
  name?: { value: string };
}

function isDocument(value: unknown): value is { definitions: Definition[] } {
  return typeof value === "object" && value !== null && "definitions" in value;
}

/** The document's one operation, or null for a fragment (exported to be spread, not sent). */
function operationOf(exportName: string, definitions: Definition[]) {
  const operations = definitions.filter((d) => d.kind === "OperationDefinition");
  if (operations.length === 0) return null;
  const [operation] = operations;
  if (operations.length > 1 || !operation?.name || !operation.operation) {
    throw new Error(`${exportName}: a document sent by the app holds one named operation`);
  }
  return { name: operation.name.value, type: operation.operation };
}

/** The manifest of every operation the modules export: module file name -> its exports. */
export async function manifest(modules: Record<string, Record<string, unknown>>): Promise<Manifest> {
  const sent: string[] = [];
  const client = new Client({
    url: "http://gateway.invalid/graphql", // nothing is fetched: no exchange sends anything
    exchanges: [
      cacheExchange,
      mapExchange({
        onOperation(operation) {
          if (operation.kind !== "teardown") sent.push(stringifyDocument(operation.query));
        },
      }),
    ],
  });
  const operations: ManifestOperation[] = [];
  const exports = Object.entries(modules).flatMap(([file, module]) =>
    Object.entries(module).map(([name, value]) => [`${file}: ${name}`, value] as const),
  );
  for (const [exportName, document] of exports) {
    if (!isDocument(document)) continue;
    const operation = operationOf(exportName, document.definitions);
    if (!operation) continue;
    sent.length = 0;
    const request = createRequest(document as DocumentInput<unknown, AnyVariables>, {});
    const dispatched = client.createRequestOperation(operation.type, request, {
      requestPolicy: "network-only",
    });
    const subscription = client.executeRequestOperation(dispatched).subscribe(() => {});
    await new Promise((resolve) => setTimeout(resolve, 0));
    subscription.unsubscribe();
    const [body] = sent;
    if (sent.length !== 1 || body === undefined) {
      throw new Error(`${exportName}: expected one operation on the wire, saw ${sent.length}`);
    }
    const id = createHash("sha256").update(body, "utf8").digest("hex");
    operations.push({ id, name: operation.name, type: operation.type, body });
  }
  operations.sort((a, b) => a.name.localeCompare(b.name));
  const names = operations.map((o) => o.name);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length) throw new Error(`operation names used twice: ${repeated.join(", ")}`);
  return { format: "apollo-persisted-query-manifest", version: 1, operations };
}
