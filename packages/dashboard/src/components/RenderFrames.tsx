import type { DpnClient } from "@dpn/sdk";
import { useEffect, useState } from "react";

/** A frame of a render job's merged result: its image, by content hash, once all tiles are in. */
interface Frame {
  readonly frame: number;
  readonly image: string | null;
}

/**
 * The frames of a render job's result (`result.frames`); the job result's schema leaves each
 * kind's merged result open, so the shape is checked here, and anything else shows no frames.
 */
function framesOf(result: unknown): readonly Frame[] {
  if (typeof result !== "object" || result === null) return [];
  const frames = (result as { frames?: unknown }).frames;
  if (!Array.isArray(frames)) return [];
  return frames.filter(
    (f): f is Frame =>
      typeof f === "object" &&
      f !== null &&
      typeof (f as Frame).frame === "number" &&
      (typeof (f as Frame).image === "string" || (f as Frame).image === null),
  );
}

/**
 * The frames of a render job (docs/protocol.md §Render jobs), shown as they are accepted. The
 * images are the node's artifacts (`/v1/artifacts/{sha256}`), stitched from the accepted tiles.
 * `progress` (tiles done) re-reads the result when it moves. The frames are the requester's:
 * `client` signs the result's read and each image's URL (a token in the query, as an <img> cannot
 * send headers), made as the frames are drawn.
 */
export function RenderFrames({
  client,
  jobId,
  progress,
}: {
  readonly client: DpnClient;
  readonly jobId: string;
  readonly progress: number;
}) {
  const [frames, setFrames] = useState<readonly Frame[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [urls, setUrls] = useState<ReadonlyMap<string, string>>(new Map());
  // biome-ignore lint/correctness/useExhaustiveDependencies: `progress` is the trigger to re-read, not an input of the effect
  useEffect(() => {
    const abort = new AbortController();
    client.jobResult(jobId, { signal: abort.signal }).then(
      (r) => {
        const next = framesOf(r.result);
        // Each image's signed URL is made once, when its frame first appears: a new token on
        // every render would be a new URL, and the browser would download the frame again.
        setUrls((known) => {
          const urls = new Map(known);
          for (const f of next) {
            if (f.image !== null && !urls.has(f.image))
              urls.set(f.image, client.artifactUrl(f.image));
          }
          return urls;
        });
        setFrames(next);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => abort.abort();
  }, [client, jobId, progress]);
  if (error !== undefined) return <p className="error">{error}</p>;
  if (frames.length === 0) return null;
  return (
    <>
      <h2>Frames</h2>
      <div className="frames" data-testid="render-frames">
        {frames.map((f) => (
          <figure key={f.frame}>
            {f.image === null ? (
              <div className="frame-pending muted">rendering…</div>
            ) : (
              <img src={urls.get(f.image)} alt={`frame ${f.frame}`} width={160} />
            )}
            <figcaption>frame {f.frame}</figcaption>
          </figure>
        ))}
      </div>
    </>
  );
}
