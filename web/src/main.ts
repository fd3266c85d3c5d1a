// The console shell: sign-in, navigation and a hash router (`#/insights`, `#/logs/<group>`,
// `#/metrics`, `#/alarms`, `#/dashboards/<name>`), so every page has an address.

import "./style.css";
import { AwsError, loadCredentials, logs, saveCredentials, setAuthFailureHandler } from "./api";
import { errorBox, h, mount } from "./dom";
import { insightsPage } from "./insights/page";
import { alarmsPage } from "./pages/alarms";
import { dashboardsPage } from "./pages/dashboards";
import { logGroupsPage } from "./pages/loggroups";
import { metricsPage } from "./pages/metrics";

type Page = (root: HTMLElement, params: URLSearchParams, path: string[]) => (() => void) | void;

const PAGES: { id: string; label: string; page: Page }[] = [
  { id: "insights", label: "Logs Insights", page: insightsPage },
  { id: "logs", label: "Log groups", page: logGroupsPage },
  { id: "metrics", label: "Metrics", page: metricsPage },
  { id: "alarms", label: "Alarms", page: alarmsPage },
  { id: "dashboards", label: "Dashboards", page: dashboardsPage },
];

const app = document.getElementById("app")!;
let cleanup: (() => void) | void;

function route(): { id: string; path: string[]; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, "");
  const [pathPart, query = ""] = hash.split("?");
  const path = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  return { id: path[0] ?? "insights", path: path.slice(1), params: new URLSearchParams(query) };
}

function render(): void {
  if (!loadCredentials()) {
    signIn();
    return;
  }
  cleanup?.();
  cleanup = undefined;
  const r = route();
  const page = PAGES.find((p) => p.id === r.id) ?? PAGES[0];
  const main = h("main", { class: "content", id: "content" });
  const creds = loadCredentials()!;
  mount(
    app,
    h(
      "div",
      { class: "shell" },
      h(
        "nav",
        { class: "sidebar", "aria-label": "Console" },
        h("div", { class: "brand" }, h("img", { src: "/console/favicon.svg", alt: "" }), h("span", null, "OpenWatch")),
        PAGES.map((p) => h("a", { href: `#/${p.id}`, class: p.id === page.id ? "active" : "", "data-nav": p.id }, p.label)),
        h(
          "div",
          { class: "who" },
          h("div", { class: "muted small-text" }, "Signed in as"),
          h("code", null, creds.accessKeyId),
          h("div", { class: "muted small-text" }, creds.region),
          h("button", { class: "small", onclick: () => (saveCredentials(null), render()) }, "Sign out"),
        ),
      ),
      main,
    ),
  );
  document.title = `${page.label} · OpenWatch`;
  cleanup = page.page(main, r.params, r.path);
}

function signIn(message?: string): void {
  cleanup?.();
  cleanup = undefined;
  const id = h("input", { name: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false", "data-testid": "access-key-id" });
  const secret = h("input", { name: "secretAccessKey", type: "password", autocomplete: "current-password", required: true, "data-testid": "secret-access-key" });
  const region = h("input", { name: "region", value: "us-east-1", required: true, spellcheck: "false" });
  const out = h("div", { class: "signin-result" });
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        saveCredentials({ accessKeyId: id.value.trim(), secretAccessKey: secret.value.trim(), region: region.value.trim() || "us-east-1" });
        try {
          // Any signed call proves the key: the cheapest one.
          await logs("DescribeLogGroups", { limit: 1 });
          if (!location.hash) location.hash = "#/insights";
          render();
        } catch (err) {
          saveCredentials(null);
          mount(out, errorBox(err));
        }
      },
    },
    h("div", { class: "brand big" }, h("img", { src: "/console/favicon.svg", alt: "" }), h("span", null, "OpenWatch")),
    h("p", null, "Sign in with an access key of this server: the one ", h("code", null, "openwatch serve"), " printed, or one from its configuration."),
    message ? h("div", { class: "notice error" }, message) : null,
    h("label", null, "Access key ID", id),
    h("label", null, "Secret access key", secret),
    h("label", null, "Region", region),
    h("button", { class: "primary", type: "submit", "data-testid": "sign-in" }, "Sign in"),
    h("p", { class: "muted small-text" }, "The key is kept in this browser tab only (sessionStorage) and signs each request (SigV4); it is never sent."),
    out,
  );
  mount(app, h("div", { class: "signin-page" }, form));
  id.focus();
}

setAuthFailureHandler((e: AwsError) => {
  saveCredentials(null);
  signIn(`The server refused the key: ${e.message}`);
});

window.addEventListener("hashchange", render);
render();
