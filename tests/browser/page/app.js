// Submit l-kitchen.json to the API (?api=<origin>), follow the job over Server-Sent Events, show piece A's SVG.
// The outcome lands on <body>: data-state="done" | "error", and data-error with the error's name and message.
"use strict";

const api = new URLSearchParams(location.search).get("api");
const TERMINAL = ["succeeded", "failed", "cancelled"];

function log(line) {
  document.getElementById("log").textContent += line + "\n";
}

function follow(eventsUrl) {
  return new Promise((resolve, reject) => {
    const stream = new EventSource(eventsUrl);
    stream.addEventListener("status", (event) => {
      const change = JSON.parse(event.data);
      log(`status ${change.status} (${change.stage})`);
      document.getElementById("status").textContent = change.status;
      if (TERMINAL.includes(change.status)) {
        stream.close();
        resolve(change);
      }
    });
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) reject(new Error("the event stream was refused"));
    };
  });
}

async function run() {
  const spec = await (await fetch("l-kitchen.json")).text();
  const submitted = await fetch(`${api}/api/cad/generate`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `browser-${Date.now()}` },
    body: spec,
  });
  if (submitted.status !== 202) throw new Error(`submit: ${submitted.status} ${await submitted.text()}`);
  const job = await submitted.json();
  document.getElementById("job").textContent = job.id;
  // Exposed headers: a cross-origin script only sees these when the API lists them.
  log(`queued ${job.id}; Location ${submitted.headers.get("Location")}; X-Request-ID ${submitted.headers.get("X-Request-ID")}`);

  const last = await follow(new URL(job.events_url, api).href);
  if (last.status !== "succeeded") throw new Error(`job ${last.status}: ${last.error}`);

  const view = await (await fetch(new URL(job.status_url, api))).json();
  const svg = view.artifacts.find((a) => a.name === "piece-A.svg");
  if (!svg) throw new Error(`no piece-A.svg in ${view.artifacts.map((a) => a.name).join(", ")}`);
  const url = new URL(svg.url, api).href;

  const img = document.createElement("img");  // how a page shows a preview
  img.alt = "piece A";
  img.src = url;
  await img.decode();
  document.getElementById("preview").append(img);

  const text = await (await fetch(url)).text();  // and how it inlines one (needs CORS on the artifact)
  document.getElementById("inline").innerHTML = text;
  log(`shown ${svg.name} (${svg.size_bytes} bytes)`);
  document.body.dataset.state = "done";
}

run().catch((error) => {
  log(`error ${error.name}: ${error.message}`);
  document.getElementById("status").textContent = "error";
  document.body.dataset.error = `${error.name}: ${error.message}`;
  document.body.dataset.state = "error";
});
