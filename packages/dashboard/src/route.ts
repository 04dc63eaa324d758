/** The pages, addressed by hash routes (#/jobs/job_…) so the node serves one index.html at /. */
export type Route =
  | { readonly page: "overview" }
  | { readonly page: "jobs" }
  | { readonly page: "job"; readonly id: string }
  | { readonly page: "devices" }
  | { readonly page: "wallet"; readonly id: string | undefined }
  | { readonly page: "economics" }
  | { readonly page: "contribute" }
  | { readonly page: "missing"; readonly path: string };

/** Parses a location hash ("#/jobs/job_1") into a route. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "") || "/";
  const [, first = "", second] = path.split("/");
  switch (first) {
    case "":
      return { page: "overview" };
    case "jobs":
      return second === undefined
        ? { page: "jobs" }
        : { page: "job", id: decodeURIComponent(second) };
    case "devices":
      return { page: "devices" };
    case "wallet":
      return { page: "wallet", id: second === undefined ? undefined : decodeURIComponent(second) };
    case "economics":
      return { page: "economics" };
    case "contribute":
      return { page: "contribute" };
    default:
      return { page: "missing", path };
  }
}
