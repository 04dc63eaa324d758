import { NodeInfoResponse, OpenApiResponse } from "@dpn/wire";
import { type ApiPlugin, answers } from "../context.ts";

/** The node itself: who it is, and the API's own description. */
export const nodeRoutes: ApiPlugin = async (app, { nodeInfo, openapi }) => {
  app.get(
    "/v1/node",
    {
      schema: {
        summary: "The node's identity (public keys), version and parameters.",
        response: answers({ 200: NodeInfoResponse }),
      },
    },
    async () => nodeInfo(),
  );
  app.get(
    "/openapi.json",
    { schema: { summary: "This document.", response: answers({ 200: OpenApiResponse }) } },
    async () => openapi.document(),
  );
};
