import { serve } from "./processPool.ts";

/**
 * A child process of the verify pool (pool.ts): it runs the `work` export of the module each
 * request names. Kinds put their CPU-bound checks (Groth16 pairings, recomputations) in such
 * modules, so the node's event loop never runs them and the pool never names a kind.
 */
export interface WorkRequest {
  /** file: URL of a module exporting `work(request)`. */
  readonly module: string;
  readonly request: unknown;
}

type WorkModule = { readonly work: (request: unknown) => Promise<unknown> };
const modules = new Map<string, Promise<WorkModule>>();

async function run({ module, request }: WorkRequest): Promise<unknown> {
  let loaded = modules.get(module);
  if (loaded === undefined) {
    loaded = import(module) as Promise<WorkModule>;
    modules.set(module, loaded);
  }
  const { work } = await loaded;
  if (typeof work !== "function") throw new Error(`${module} exports no work function`);
  return work(request);
}

serve(run);
