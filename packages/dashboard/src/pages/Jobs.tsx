import { type DpnClient, DpnError, type JobView } from "@dpn/sdk";
import { type FormEvent, useState } from "react";
import { type Device, dpn, signedBy, useReader } from "../api.ts";
import { RenderFrames } from "../components/RenderFrames.tsx";
import { SignIn } from "../components/SignIn.tsx";
import { StateBadge, Status } from "../components/Status.tsx";
import {
  formatDpnAmount,
  formatNumber,
  formatProgress,
  formatTime,
  jobIdError,
  shortId,
} from "../format.ts";
import { identityFromKeyFile, KeyFileError } from "../keyFile.ts";
import { useJobEvents } from "../useJobEvents.ts";
import { usePoll } from "../usePoll.ts";

function Progress({ job }: { readonly job: JobView }) {
  const percent = job.items > 0 ? (job.itemsDone / job.items) * 100 : 0;
  return (
    <div className="progress" title={formatProgress(job.itemsDone, job.items)}>
      <div className="progress-bar" style={{ width: `${percent}%` }} />
      <span className="progress-text">{formatProgress(job.itemsDone, job.items)}</span>
    </div>
  );
}

export function Jobs() {
  const { identity, client } = useReader();
  return (
    <section>
      <h1>Jobs</h1>
      <OpenJob />
      <SignIn purpose="to list your jobs" />
      {identity === undefined ? (
        <p className="muted">
          A job is readable only by its requester; sign in with your key file to list yours.
        </p>
      ) : (
        <MyJobs key={identity.id} client={client} />
      )}
    </section>
  );
}

function OpenJob() {
  const [input, setInput] = useState("");
  const [inputError, setInputError] = useState<string | undefined>(undefined);
  const open = (event: FormEvent) => {
    event.preventDefault();
    const problem = jobIdError(input);
    setInputError(problem);
    if (problem === undefined) window.location.hash = `#/jobs/${input.trim()}`;
  };
  return (
    <>
      <form className="inline-form" onSubmit={open} noValidate>
        <label>
          Job id{" "}
          <input
            name="job-id"
            value={input}
            placeholder="job_0123456789abcdef"
            onChange={(e) => setInput(e.target.value)}
            aria-invalid={inputError !== undefined}
          />
        </label>
        <button type="submit">Open</button>
      </form>
      {inputError === undefined ? null : (
        <p className="error" role="alert">
          {inputError}
        </p>
      )}
    </>
  );
}

/** The signed-in requester's recent jobs (GET /v1/jobs answers the signer's own). */
function MyJobs({ client }: { readonly client: DpnClient }) {
  const jobs = usePoll((signal) => client.jobs({ signal }), "jobs");
  const list = jobs.data?.jobs ?? [];
  return (
    <>
      <Status error={jobs.error} loading={jobs.data === undefined} />
      {jobs.data !== undefined && list.length === 0 ? (
        <p className="muted">No jobs yet. Submit one with `npm run dpn -- job submit`.</p>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>Type</th>
            <th>State</th>
            <th>Progress</th>
            <th className="num">CU</th>
            <th className="num">Spent / budget (DPN)</th>
            <th>Created (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {list.map((job) => (
            <tr key={job.jobId}>
              <td>
                <a href={`#/jobs/${job.jobId}`}>{job.jobId}</a>
              </td>
              <td>{job.type}</td>
              <td>
                <StateBadge state={job.state} />
              </td>
              <td>
                <Progress job={job} />
              </td>
              <td className="num">{formatNumber(job.cu, 4)}</td>
              <td className="num">
                {formatDpnAmount(job.spent)} / {formatDpnAmount(job.budget)}
              </td>
              <td>{formatTime(job.createdMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/**
 * Cancelling moves funds (the unspent holds go back), so it is signed by the requester's own key:
 * the page reads their identity file for this one signature and keeps nothing.
 */
function CancelJob({ job }: { readonly job: JobView }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const onFile = async (file: File | undefined) => {
    if (file === undefined) return;
    setError(undefined);
    setBusy(true);
    try {
      const identity = identityFromKeyFile(await file.text());
      if (identity.id !== job.requester) {
        throw new KeyFileError(
          `This key is ${identity.id}; only the requester ${job.requester} may cancel this job.`,
        );
      }
      // The page follows the job's events, so the cancelled state arrives by itself.
      await signedBy(identity).cancelJob(job.jobId);
    } catch (e) {
      setError(
        e instanceof DpnError
          ? `${e.code}: ${e.message}`
          : e instanceof Error
            ? e.message
            : String(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="panel">
      <h2>Cancel</h2>
      <label>
        Requester's key file (identity.json), to sign the cancellation:{" "}
        <input
          type="file"
          accept="application/json,.json"
          data-testid="cancel-key"
          disabled={busy}
          onChange={(e) => void onFile(e.target.files?.[0])}
        />
      </label>
      <p className="muted small">
        Unfinished fragments stop and their holds return to the requester. The key is read for this
        one signature and never stored or sent.
      </p>
      {error === undefined ? null : (
        <p className="error" role="alert" data-testid="cancel-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function JobDetail({ id }: { readonly id: string }) {
  const problem = jobIdError(id);
  const { identity, client } = useReader();
  const job = useJobEvents(id, client, problem === undefined && identity !== undefined);
  const devices = usePoll((signal) => dpn.devices({ signal }), "devices", 5_000);
  const byId = new Map<string, Device>((devices.data?.devices ?? []).map((d) => [d.deviceId, d]));
  const j = job.data;
  return (
    <section>
      <p>
        <a href="#/jobs">← Jobs</a>
      </p>
      <h1>
        Job <code>{id}</code>
      </h1>
      {problem === undefined ? null : (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <SignIn purpose="to read this job if it is yours" />
      {identity === undefined ? (
        <p className="muted" data-testid="job-private">
          A job, its result and its events are readable only by its requester.
        </p>
      ) : (
        <Status error={job.error} loading={problem === undefined && j === undefined} />
      )}
      {j === undefined ? null : (
        <>
          <dl className="facts" data-testid="job-facts">
            <dt>State</dt>
            <dd data-testid="job-state">
              <StateBadge state={j.state} />
            </dd>
            <dt>Progress</dt>
            <dd data-testid="job-progress">
              <Progress job={j} />
            </dd>
            <dt>Type</dt>
            <dd>{j.type}</dd>
            <dt>Requester</dt>
            <dd>
              <a href={`#/wallet/${j.requester}`}>{j.requester}</a>
            </dd>
            <dt>Work</dt>
            <dd>
              {formatNumber(j.cu, 4)} CU at {formatNumber(j.cuPerDpn, 5)} CU/DPN
            </dd>
            <dt>Quote · spent · budget</dt>
            <dd>
              {formatDpnAmount(j.quote)} · {formatDpnAmount(j.spent)} · {formatDpnAmount(j.budget)}{" "}
              DPN
            </dd>
            <dt>Created · deadline · finished (UTC)</dt>
            <dd>
              {formatTime(j.createdMs)} · {formatTime(j.deadlineMs)} ·{" "}
              {j.finishedMs === null ? "—" : formatTime(j.finishedMs)}
            </dd>
            <dt>Result</dt>
            <dd>
              {j.itemsDone > 0 ? (
                <a
                  href={client.jobResultUrl(j.jobId)}
                  // The link carries a signed read that lives a minute: signed again on click.
                  onClick={(e) => {
                    e.currentTarget.href = client.jobResultUrl(j.jobId);
                  }}
                  download={`${j.jobId}.json`}
                  data-testid="result"
                >
                  Download outputs (JSON, {j.itemsDone} of {j.items} items)
                </a>
              ) : (
                <span className="muted">no finished fragment yet</span>
              )}
            </dd>
          </dl>
          {j.state === "open" || j.state === "funding" ? <CancelJob job={j} /> : null}
          {j.type === "render" ? (
            <RenderFrames
              key={identity?.id}
              client={client}
              jobId={j.jobId}
              progress={j.itemsDone}
            />
          ) : null}
          <h2>Fragments</h2>
          <table data-testid="fragments">
            <thead>
              <tr>
                <th>#</th>
                <th className="num">Items</th>
                <th>State</th>
                <th>Device</th>
                <th>Class</th>
                <th>Region</th>
                <th className="num">Attempts</th>
                <th className="num">Price (DPN)</th>
                <th className="num">Reward (DPN)</th>
              </tr>
            </thead>
            <tbody>
              {j.fragments.map((f) => {
                const device = f.deviceId === null ? undefined : byId.get(f.deviceId);
                return (
                  <tr key={f.taskId}>
                    <td>{f.index}</td>
                    <td className="num">{f.items}</td>
                    <td>
                      <StateBadge state={f.state} />
                    </td>
                    <td>{f.deviceId === null ? "—" : <code>{shortId(f.deviceId)}</code>}</td>
                    <td>{device?.deviceClass ?? "—"}</td>
                    <td>{device?.geohash ?? "—"}</td>
                    <td className="num">{f.attempts}</td>
                    <td className="num">{f.price === null ? "—" : formatDpnAmount(f.price)}</td>
                    <td className="num">{f.reward === null ? "—" : formatDpnAmount(f.reward)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
