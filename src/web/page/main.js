import { html } from "htm/preact";
import { render } from "preact";
import { lazy } from "./lazy.js";
import { ActionPage } from "./pages/action.js";
import { ActionsPage } from "./pages/actions.js";
import { FinancePage } from "./pages/finance.js";
import { JobsPage } from "./pages/jobs.js";
import { KnowledgePage } from "./pages/knowledge.js";
import { OverviewPage } from "./pages/overview.js";
import { ReviewPage } from "./pages/review.js";
import { interceptLinks, useLocation } from "./router.js";
// uPlot's few rules go in the main stylesheet: a lazily loaded chunk's CSS is not linked.
import "uplot/dist/uPlot.min.css";
import "./style.css";

// The charting library (Machine, Night shift) is loaded only when such a page is opened.
const MachinePage = lazy(() => import("./pages/machine.js").then((m) => m.MachinePage));
const NightPage = lazy(() => import("./pages/night.js").then((m) => m.NightPage));

const PAGES = [
  { path: "", label: "Overview", Page: OverviewPage },
  { path: "actions", label: "Actions", Page: ActionsPage },
  { path: "review", label: "Review", Page: ReviewPage },
  { path: "kb", label: "Knowledge", Page: KnowledgePage },
  { path: "machine", label: "Machine", Page: MachinePage },
  { path: "night", label: "Night shift", Page: NightPage },
  { path: "jobs", label: "Jobs", Page: JobsPage },
  { path: "finance", label: "Finance", Page: FinancePage },
];

function App() {
  const location = useLocation();
  const current = PAGES.find((p) => p.path === location.page);
  let body;
  if (location.page === "actions" && location.id.length > 0) {
    body = html`<${ActionPage} id=${location.id[0]} />`;
  } else if (current) {
    body = html`<${current.Page} location=${location} />`;
  } else {
    body = html`<h1>Not found</h1><p>No page ${location.page}. <a href="/ui/">Overview</a></p>`;
  }
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/ui/">nightshift</a>
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            (p) => html`<li>
              <a class="navlink" href=${`/ui/${p.path}`} aria-current=${p === current ? "page" : undefined}>${p.label}</a>
            </li>`,
          )}
        </ul>
      </nav>
    </header>
    <main id="main" tabindex="-1">${body}</main>
  `;
}

interceptLinks();
const root = document.getElementById("app");
// The shell's "Loading…" line is plain HTML; Preact would render beside it, not over it.
root.textContent = "";
render(html`<${App} />`, root);
