import { useEffect, useState } from "react";
import { dpn } from "./api.ts";
import { Contribute } from "./pages/Contribute.tsx";
import { Devices } from "./pages/Devices.tsx";
import { Economics } from "./pages/Economics.tsx";
import { JobDetail, Jobs } from "./pages/Jobs.tsx";
import { Overview } from "./pages/Overview.tsx";
import { Wallet } from "./pages/Wallet.tsx";
import { parseRoute, type Route } from "./route.ts";
import { usePoll } from "./usePoll.ts";

function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseRoute(hash);
}

const NAV: ReadonlyArray<{ href: string; label: string; pages: readonly Route["page"][] }> = [
  { href: "#/", label: "Overview", pages: ["overview"] },
  { href: "#/jobs", label: "Jobs", pages: ["jobs", "job"] },
  { href: "#/devices", label: "Devices", pages: ["devices"] },
  { href: "#/wallet", label: "Wallet", pages: ["wallet"] },
  { href: "#/economics", label: "Economics", pages: ["economics"] },
  { href: "#/contribute", label: "Contribute", pages: ["contribute"] },
];

function Page({ route }: { readonly route: Route }) {
  switch (route.page) {
    case "overview":
      return <Overview />;
    case "jobs":
      return <Jobs />;
    case "job":
      return <JobDetail id={route.id} />;
    case "devices":
      return <Devices />;
    case "wallet":
      return <Wallet id={route.id} />;
    case "economics":
      return <Economics />;
    case "contribute":
      return <Contribute />;
    case "missing":
      return (
        <section>
          <h1>Not found</h1>
          <p className="error" role="alert">
            There is no page “{route.path}”. Pick one above.
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  const node = usePoll((signal) => dpn.node({ signal }), "node", 5_000);
  return (
    <>
      <header className="topbar">
        <a className="brand" href="#/">
          DPN <span>computing power bank</span>
        </a>
        <nav>
          {NAV.map((item) => (
            <a
              key={item.href}
              href={item.href}
              className={item.pages.includes(route.page) ? "active" : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <span className="node-status" data-testid="node-status">
          {node.error !== undefined
            ? "node unreachable"
            : node.data === undefined
              ? "connecting…"
              : `node ${node.data.id.slice(0, 12)}… v${node.data.version} · ${node.data.devicesOnline} online`}
        </span>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}
