import { useEffect, useState } from "react";
import { getJson } from "../api.ts";

/** A render job's result: each frame's image, by content hash, once all its tiles are accepted. */
interface RenderResult {
  readonly result?: {
    readonly frames?: ReadonlyArray<{ readonly frame: number; readonly image: string | null }>;
  };
}

/**
 * The frames of a render job (docs/protocol.md §Render jobs), shown as they are accepted. The
 * images are the node's artifacts (`/v1/artifacts/{sha256}`), stitched from the accepted tiles.
 * `progress` (tiles done) re-reads the result when it moves.
 */
export function RenderFrames({
  jobId,
  progress,
}: {
  readonly jobId: string;
  readonly progress: number;
}) {
  const [frames, setFrames] = useState<ReadonlyArray<{ frame: number; image: string | null }>>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `progress` is the trigger to re-read, not an input of the effect
  useEffect(() => {
    const abort = new AbortController();
    getJson<RenderResult>(`/v1/jobs/${encodeURIComponent(jobId)}/result`, abort.signal).then(
      (r) => setFrames(r.result?.frames ?? []),
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => abort.abort();
  }, [jobId, progress]);
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
              <img src={`/v1/artifacts/${f.image}`} alt={`frame ${f.frame}`} width={160} />
            )}
            <figcaption>frame {f.frame}</figcaption>
          </figure>
        ))}
      </div>
    </>
  );
}
