import { DpnError } from "@dpn/protocol";
import type { Db } from "./store/open.ts";
import { artifactGrant } from "./store/records.ts";

/**
 * Who may read an artifact (docs/adr/0015-signed-reads.md). Artifacts are private unless their
 * uploader published them at upload (a circuit shared on purpose). Beyond that, an artifact is
 * readable by:
 *
 * - an account holding a grant: each uploader of those bytes, and the requester of the job that
 *   produced them (a rendered frame);
 * - a device, while it holds a current lease on a task whose lease names the artifact: devices
 *   fetch their tasks' inputs. The node recomputes the lease (the kind's `lease`, which only
 *   reads) rather than trusting the device or remembering leases, so a lease that ended, was
 *   reassigned or never existed opens nothing, and a restart loses nothing
 *   (scheduler/leasedInputs.ts).
 *
 * A requester may name as a job's input only an artifact it may read itself (usableBy): otherwise
 * anyone who learned a hash could have devices read someone else's private data for them and
 * return what it computes.
 */

/**
 * Whether `signer` (undefined: an unsigned read) may read the artifact, and whether it is
 * published (then it may sit in shared caches). `leaseNeeds` asks the scheduler whether one of
 * the signer's current leases, as a device, names it; it is asked only when nothing else opens.
 */
export async function readAccess(
  db: Db,
  sha256: string,
  signer: string | undefined,
  leaseNeeds: (deviceId: string, sha256: string) => Promise<boolean>,
): Promise<{ readonly readable: boolean; readonly published: boolean }> {
  const { published, granted } = await artifactGrant(db, sha256, signer);
  if (published || granted) return { readable: true, published };
  return { readable: signer !== undefined && (await leaseNeeds(signer, sha256)), published };
}

/** Whether the artifact is published or `account` holds a grant to it. */
export async function usableBy(db: Db, sha256: string, account: string): Promise<boolean> {
  const { published, granted } = await artifactGrant(db, sha256, account);
  return published || granted;
}

/** ARTIFACT_FORBIDDEN (403) unless `requester` may use the artifact as a job input. */
export async function requireUsable(
  db: Db,
  sha256: string,
  requester: string,
  what: string,
): Promise<void> {
  if (!(await usableBy(db, sha256, requester))) {
    // The same answer whether or not the bytes are stored: it tells a stranger nothing.
    throw new DpnError(
      "ARTIFACT_FORBIDDEN",
      `${what} ${sha256} is not an artifact you uploaded, and it is not published.`,
      {
        hint: "Upload it yourself first (PUT /v1/artifacts/{sha256}); another account's private artifact cannot be a job's input unless its uploader publishes it.",
      },
    );
  }
}
