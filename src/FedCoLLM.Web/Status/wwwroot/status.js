// The status page: polls /api/jobs and the selected job's /api/jobs/{id} every 2 s and redraws from them. The
// selection lives in the URL (#job=ID), so a link opens a job. Read-only: the page only ever sends GETs.
import { h, token } from "./dom.js";
import { plot } from "./plot.js";

const POLL_MS = 2000;
const $ = id => document.getElementById(id);

const pct = v => v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`;
const num = (v, digits = 3) => v === null || v === undefined ? "–" : v.toFixed(digits);
const pad = n => String(n).padStart(2, "0");
function time(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
/** "LlmTeacherLogits" → "LLM teacher logits". */
function phaseLabel(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(" ");
  return words.map((w, i) => /^(Llm|Slm)$/.test(w) ? w.toUpperCase() : i === 0 ? w : w.toLowerCase()).join(" ");
}
const badge = (text, kind) => h("span", { class: `badge ${token(kind ?? text)}` }, phaseLabel(text));

function selectedId(jobs) {
  const wanted = new URLSearchParams(location.hash.slice(1)).get("job");
  if (wanted !== null) return wanted;
  // Nothing chosen: the newest running job, else the newest job.
  const running = jobs.filter(j => !j.ended_in && !["Completed", "Failed", "Cancelled"].includes(j.state));
  return (running.at(-1) ?? jobs.at(-1))?.id ?? null;
}

function renderList(list, selected) {
  const node = list.node;
  $("node").textContent = `${node.address} · roles ${node.roles.join(", ") || "none"} · ${node.members} member(s)`;
  const items = list.jobs.map(j => h("li", {},
    h("a", { href: `#job=${encodeURIComponent(j.id)}`, "aria-current": j.id === selected ? "page" : null },
      h("div", { class: "id" }, j.id),
      h("div", {}, badge(j.state)),
      h("div", { class: "meta" }, `${j.strategy ?? "?"} · round ${j.round}/${j.rounds_planned ?? "?"} · ${j.committed} committed`,
        j.answered ? "" : " · not answering"))));
  $("job-list").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "No jobs yet. Submit one with fedcollm submit.")]));
}

function renderPhases(job) {
  const running = !["Completed", "Failed", "Cancelled", "NotStarted", "Initializing"].includes(job.state);
  const title = job.state === "Initializing" ? "Initializing: creating and scoring the starting adapters (round 0)"
    : running ? `Round ${job.round} of ${job.rounds_planned} · attempt ${job.attempt}`
    : `${job.history.length} of ${job.rounds_planned} round(s) committed`;
  const deadline = job.client_deadline ? `clients' deadline ${time(job.client_deadline)}` : "";
  const phases = h("ol", { class: "phases", "aria-label": "phases of the round" }, job.phases.map(p =>
    h("li", { class: token(p.status), title: `${p.name}, run by ${p.run_by}` }, phaseLabel(p.name), " ", h("span", { class: "runby" }, p.run_by.toLowerCase()))));
  const live = job.live.map(l => {
    const fill = h("span");
    fill.style.width = `${l.total_steps > 0 ? Math.min(100, (100 * l.step) / l.total_steps) : 0}%`;
    return h("div", { class: "live-row" }, h("span", { class: "mono" }, l.worker), h("div", { class: "bar" }, fill),
      h("span", { class: "muted" }, `step ${l.step}/${l.total_steps}`,
        l.value === null ? "" : l.measure === "accuracy" ? ` · acc ${pct(l.value)}` : ` · loss ${num(l.value)}`));
  });
  return h("div", { class: "card" },
    h("div", { class: "round-title" }, h("strong", {}, title), h("span", { class: "muted" }, deadline)),
    phases, live.length ? h("div", { class: "live" }, live) : null);
}

function renderPlots(job) {
  const xMax = Math.max(1, job.rounds_planned, ...job.history.map(r => r.round));
  return h("div", { class: "plots" },
    h("div", { class: "card" }, h("h3", {}, "Accuracy · mean over evaluation sets"),
      plot({ series: job.accuracy, xMax, percent: true, empty: "no round evaluated yet" }),
      h("div", { class: "muted legend" }, `round 0 = pre-trained models · sets: ${job.evaluation_sets.join(", ") || "–"}`)),
    h("div", { class: "card" }, h("h3", {}, "Loss per round"),
      plot({ series: job.loss, xMax, percent: false, empty: "no round committed yet" })));
}

function renderClients(job) {
  const rows = job.clients.map(c => h("tr", { "data-client": c.id },
    h("td", { class: "mono" }, c.id),
    h("td", {}, badge(c.status), c.progress ? h("span", { class: "muted" }, ` step ${c.progress.step}/${c.progress.total_steps}`) : null),
    h("td", { class: "num" }, c.last_round ?? "–"), h("td", { class: "num" }, num(c.last_train_loss)),
    h("td", { class: "num" }, c.sample_count ?? "–"),
    // An update of the open round has no commit yet; an older one is dated by its round's commit.
    h("td", {}, c.last_round === null ? "–" : c.last_committed_at ? time(c.last_committed_at) : "open round")));
  return h("div", { class: "card" }, h("h3", {}, `Clients · quorum ${job.quorum}`), h("div", { class: "table-wrap" },
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "client"), h("th", {}, "this round"), h("th", { class: "num" }, "last update: round"),
      h("th", { class: "num" }, "train loss"), h("th", { class: "num" }, "samples"), h("th", {}, "committed"))), h("tbody", {}, rows))));
}

function renderRounds(job) {
  const rows = [...job.history].reverse().map(r => h("tr", { "data-round": r.round },
    h("td", {}, `Round ${r.round}`), h("td", { class: "num" }, r.attempt),
    h("td", {}, r.participants.join(", ") || "–"), h("td", {}, r.missing.join(", ") || "–"),
    h("td", { class: "num" }, pct(r.slm_accuracy)), h("td", { class: "num" }, pct(r.llm_accuracy)),
    h("td", { class: "mono" }, r.slm_sha256.slice(0, 12)), h("td", {}, time(r.committed_at))));
  return h("div", { class: "card" }, h("h3", {}, "Committed rounds"), rows.length
    ? h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "round"), h("th", { class: "num" }, "attempt"),
        h("th", {}, "participants"), h("th", {}, "missing"), h("th", { class: "num" }, "SLM acc"), h("th", { class: "num" }, "LLM acc"),
        h("th", {}, "SLM adapter"), h("th", {}, "committed"))), h("tbody", {}, rows)))
    : h("p", { class: "muted" }, "No round committed yet."));
}

function renderJob(job) {
  const head = h("div", { class: "card" },
    h("div", { class: "job-head" }, h("h2", {}, job.id), badge(job.state)),
    h("div", { class: "facts" },
      h("span", {}, "strategy ", h("b", {}, job.strategy)), h("span", {}, "seed ", h("b", {}, job.seed)),
      h("span", {}, "clients ", h("b", {}, job.clients.length)), h("span", {}, "submitted ", h("b", {}, time(job.submitted))),
      h("span", {}, "spec ", h("b", { class: "mono", title: job.spec_sha256 }, job.spec_sha256.slice(0, 12)))),
    job.failure ? h("div", { class: "failure" }, job.failure) : null);
  $("job").setAttribute("data-job", job.id);
  $("job").setAttribute("data-committed-rounds", job.history.length);
  $("job").replaceChildren(head, renderPhases(job), renderPlots(job), renderClients(job), renderRounds(job));
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const list = await getJson("/api/jobs");
    const selected = selectedId(list.jobs);
    renderList(list, selected);
    if (selected === null) $("job").replaceChildren(h("p", { class: "muted" }, "No job in this cluster yet."));
    else renderJob(await getJson(`/api/jobs/${encodeURIComponent(selected)}`));
    $("problem").hidden = true;
    $("updated").textContent = `updated ${time(list.as_of)}`;
  } catch (e) {
    // Keep the last good picture; say why it is not moving.
    $("problem").textContent = `Not refreshed: ${e.message}`;
    $("problem").hidden = false;
  } finally {
    busy = false;
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, POLL_MS);
}

window.addEventListener("hashchange", refresh);
loop();
