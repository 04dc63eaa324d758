import { useState } from "react";
import { signIn, signOut, useReader } from "../api.ts";
import { identityFromKeyFile } from "../keyFile.ts";

/**
 * Who the page reads as (api.ts Reader): a job, its result and its events are their requester's,
 * so these pages ask for the requester's key file and keep it in the tab's memory only.
 */
export function SignIn({ purpose }: { readonly purpose: string }) {
  const { identity } = useReader();
  const [error, setError] = useState<string | undefined>(undefined);
  if (identity !== undefined) {
    return (
      <p className="muted small" data-testid="signed-in">
        Reading as <code>{identity.id}</code>{" "}
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </p>
    );
  }
  const onFile = async (file: File | undefined) => {
    if (file === undefined) return;
    try {
      setError(undefined);
      signIn(identityFromKeyFile(await file.text()));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="panel">
      <h2>Sign in</h2>
      <label>
        Your key file (identity.json), {purpose}:{" "}
        <input
          type="file"
          accept="application/json,.json"
          data-testid="read-key"
          onChange={(e) => void onFile(e.target.files?.[0])}
        />
      </label>
      <p className="muted small">
        Jobs, results and their artifacts are readable only by their requester: each read is signed
        with this key. It stays in this tab's memory, is never stored or sent, and is forgotten when
        you sign out or close the tab.
      </p>
      {error === undefined ? null : (
        <p className="error" role="alert" data-testid="read-key-error">
          {error}
        </p>
      )}
    </div>
  );
}
