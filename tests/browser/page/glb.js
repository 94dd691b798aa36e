// A small binary glTF 2.0 loader (the container, per the glTF 2.0 spec, section "GLB File Format"):
// the 12-byte header, the JSON chunk, the BIN chunk; then every accessor of every mesh primitive checked to lie
// inside its buffer view. Enough to know the file would load in <model-viewer>, with no CDN.
function loadGlb(buffer) {
  const view = new DataView(buffer);
  if (view.getUint32(0, true) !== 0x46546c67) throw new Error("not a GLB (magic)");
  if (view.getUint32(4, true) !== 2) throw new Error("GLB version " + view.getUint32(4, true));
  if (view.getUint32(8, true) !== buffer.byteLength) throw new Error("GLB length does not match the file");
  let offset = 12, json = null, bin = null;
  while (offset < buffer.byteLength) {
    const length = view.getUint32(offset, true), type = view.getUint32(offset + 4, true);
    const chunk = buffer.slice(offset + 8, offset + 8 + length);
    if (type === 0x4e4f534a) json = JSON.parse(new TextDecoder().decode(chunk));
    else if (type === 0x004e4942) bin = chunk;
    offset += 8 + length;
  }
  if (!json) throw new Error("GLB has no JSON chunk");
  if (!json.asset || json.asset.version !== "2.0") throw new Error("glTF asset version is not 2.0");
  const sizes = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4};
  const comps = {SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16};
  let triangles = 0, min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (const mesh of json.meshes || []) {
    for (const prim of mesh.primitives) {
      const pos = json.accessors[prim.attributes.POSITION];
      for (let i = 0; i < 3; i++) { min[i] = Math.min(min[i], pos.min[i]); max[i] = Math.max(max[i], pos.max[i]); }
      const ids = [prim.attributes.POSITION, ...(prim.indices !== undefined ? [prim.indices] : [])];
      for (const id of ids) {
        const a = json.accessors[id], bv = json.bufferViews[a.bufferView];
        const end = (bv.byteOffset || 0) + (a.byteOffset || 0) + a.count * sizes[a.componentType] * comps[a.type];
        if (!bin || end > bin.byteLength) throw new Error("accessor " + id + " runs past the BIN chunk");
      }
      const idx = prim.indices !== undefined ? json.accessors[prim.indices].count : pos.count;
      triangles += idx / 3;
    }
  }
  if (!triangles) throw new Error("GLB has no triangles");
  return {meshes: (json.meshes || []).length, triangles, size: [0, 1, 2].map(i => max[i] - min[i])};
}
