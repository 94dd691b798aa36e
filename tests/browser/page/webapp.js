// The app's calls, in its order: catalogue (browser), generate-drawing (server-side in the app; here from the
// page), the SVG shown as the app shows it (data:image/svg+xml;base64,...), then export-glb and the model loaded.
const api = new URLSearchParams(location.search).get("api");
const log = (line) => { document.getElementById("log").textContent += line + "\n"; };
const post = (path, body) => fetch(api + path, {method: "POST", headers: {"Content-Type": "application/json"},
                                               body: JSON.stringify(body)});

function fill(id, items, label) {
  const select = document.getElementById(id);
  for (const item of items) {
    const option = document.createElement("option");
    option.value = item.id.toString();  // what crashed the app when `id` was missing
    option.textContent = label(item);
    select.appendChild(option);
  }
  select.value = items[0].id.toString();
}

async function main() {
  const [materials, finishes, profiles] = await Promise.all(
    ["materials", "finishes", "profiles"].map(k => fetch(api + "/api/cad/" + k).then(r => {
      if (!r.ok) throw new Error(k + " " + r.status);
      return r.json();
    })));
  fill("material", materials, m => `${m.name} (${m.density} g/cm³, ${m.cost_sqm} €/m²)`);
  fill("finish", finishes, f => `${f.name} (${f.cost_sqm} €/m²)`);
  fill("profile", profiles, p => `${p.name} (${p.cost_m} €/m)`);
  const material = materials[0], finish = finishes.find(f => f.id === 1), profile = profiles.find(p => p.id === 1);
  log(`catalogue ${materials.length} materials, first ${material.name} ${material.color}`);

  const order = {dims: {length: 120, width: 25, height: 2}, material: {name: material.name},
                 finish: {name: finish.name}, profile: {name: profile.name},
                 processedEdges: {front: true, back: false, left: false, right: false},
                 okapnikEdges: {front: true, back: false, left: false, right: false}};
  const drawing = await post("/api/cad/generate-drawing", order);
  const cad = await drawing.json();
  log(`generate-drawing ${drawing.status} success ${cad.success} dxf ${cad.dxf_filename}`);
  if (!cad.success) throw new Error("drawing failed: " + cad.error);
  const img = document.createElement("img");
  img.src = "data:image/svg+xml;base64," + cad.svg;
  await new Promise((ok, fail) => { img.onload = ok; img.onerror = () => fail(new Error("SVG did not load")); });
  document.getElementById("drawing").appendChild(img);
  log(`svg ${img.naturalWidth}x${img.naturalHeight}`);

  const glbAnswer = await post("/api/cad/export-glb", {
    dimensions: order.dims, material_name: material.name, surface_finish_name: "Bez obrade",
    edge_profile_name: profile.name, processed_edges: ["front"], okapnik_edges: ["front"]});
  const glbBody = await glbAnswer.json();
  log(`export-glb ${glbAnswer.status} success ${glbBody.success}`);
  if (!glbBody.success) throw new Error("export-glb failed: " + glbBody.error);
  const bytes = Uint8Array.from(atob(glbBody.glb), c => c.charCodeAt(0));
  const blobUrl = URL.createObjectURL(new Blob([bytes], {type: "model/gltf-binary"}));  // what the AR viewer gets
  const model = loadGlb(await (await fetch(blobUrl)).arrayBuffer());
  document.getElementById("model").textContent =
    `${model.meshes} mesh(es), ${model.triangles} triangles, ${model.size.map(x => x.toFixed(3)).join(" x ")} m`;
  document.body.dataset.glb = "loaded";
  document.body.dataset.glbSize = model.size.map(x => x.toFixed(3)).join(",");
  log(`glb ${bytes.length} bytes, ${model.triangles} triangles`);
}

main().then(() => { document.body.dataset.state = "done"; },
            (e) => { log("error " + e.message); document.body.dataset.state = "failed"; });
