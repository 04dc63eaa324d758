import type { FastifyInstance } from "fastify";
import { type ApiDeps, type ApiPlugin, apiContext } from "../context.ts";
import { useZodSchemas } from "../zodSchemas.ts";
import { accountRoutes } from "./accounts.ts";
import { artifactRoutes } from "./artifacts.ts";
import { deviceRoutes } from "./devices.ts";
import { economicsRoutes } from "./economics.ts";
import { jobEventRoutes } from "./jobEvents.ts";
import { jobRoutes } from "./jobs.ts";
import { ledgerRoutes } from "./ledger.ts";
import { marketRoutes } from "./market.ts";
import { nodeRoutes } from "./node.ts";

/** The API's areas, each a plugin of its own (docs/protocol.md §HTTP API). */
const API_AREAS: readonly ApiPlugin[] = [
  nodeRoutes,
  artifactRoutes,
  jobRoutes,
  jobEventRoutes,
  accountRoutes,
  marketRoutes,
  ledgerRoutes,
  economicsRoutes,
  deviceRoutes,
];

export interface ApiOptions {
  /** Check every JSON answer against its schema (zodSchemas.ts); on in tests and development. */
  readonly validateResponses: boolean;
}

/**
 * Registers the HTTP API in a scope of its own: the zod compilers and the OpenAPI collector apply
 * to its routes only, not to the dashboard's static files.
 */
export async function registerApi(
  app: FastifyInstance,
  deps: ApiDeps,
  options: ApiOptions,
): Promise<void> {
  const context = apiContext(deps);
  await app.register(async (api) => {
    useZodSchemas(api, options.validateResponses);
    api.addHook("onRoute", (route) => deps.openapi.add(route));
    for (const area of API_AREAS) {
      await api.register(async (scope) => area(scope.withTypeProvider(), context));
    }
  });
}
