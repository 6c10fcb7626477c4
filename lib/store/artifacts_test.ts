import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Artifact,
  ArtifactError,
  ArtifactStore,
  ArtifactStoreError,
  decodeArtifact,
  encodeArtifact,
} from "./artifacts.ts";
import { withReadOnly } from "./_testing.ts";

/** Awkward values on purpose: NaN payloads, −0, subnormals, extremes, odd lengths. */
function sample(): Artifact {
  const f = new Float32Array([NaN, -0, 0, 1.4e-45, -3.4028234663852886e38, Infinity, 0.1, -1 / 3]);
  const raw = new Uint32Array(f.buffer);
  raw[0] = 0x7fc12345; // a NaN with a payload: bit-exact means its bits survive too
  return {
    meta: { config: { codec: { kind: "mlp", latent: 8 } }, epochs: 3, note: "ü ∑" },
    tensors: {
      "encoder.0": { shape: [2, 4], data: f },
      codes: { shape: [3, 1], data: new Int32Array([-2147483648, 0, 2147483647]) },
      empty: { shape: [0, 5], data: new Float32Array(0) },
      odd: { shape: [3], data: new Float32Array([1, 2, 3]) },
    },
  };
}

function sameBits(a: Artifact, b: Artifact): void {
  assert.deepEqual(b.meta, a.meta);
  assert.deepEqual(Object.keys(b.tensors), Object.keys(a.tensors));
  for (const [name, t] of Object.entries(a.tensors)) {
    const u = b.tensors[name];
    assert.deepEqual(u.shape, t.shape, name);
    assert.equal(u.data.constructor, t.data.constructor, name);
    assert.deepEqual(
      new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength),
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      `${name} bits`,
    );
  }
}

Deno.test("artefacts round-trip bit-exactly, in memory and through the store", async () => {
  const a = sample();
  sameBits(a, decodeArtifact(encodeArtifact(a)));
  const store = new ArtifactStore(await Deno.makeTempDir());
  const id = await store.put(a);
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(await store.put(a), id, "content-addressed: the same content, the same id");
  sameBits(a, (await store.get(id))!);
  await store.putKeyed("cfg-abc.checkpoint", a);
  sameBits(a, (await store.getKeyed("cfg-abc.checkpoint"))!);
  assert.equal(await store.getKeyed("missing"), null);
  const left = [...Deno.readDirSync(store.dir)].map((e) => e.name).filter((n) =>
    n.endsWith(".tmp")
  );
  assert.deepEqual(left, [], "no temp files left behind");
});

Deno.test("a corrupted artefact is detected, reported, moved aside and recomputed", async () => {
  const warnings: string[] = [];
  const store = new ArtifactStore(await Deno.makeTempDir(), { warn: (m) => warnings.push(m) });
  let computed = 0;
  const compute = () => (computed++, sample());
  const first = await store.getOrCompute("latents-0", compute);
  assert.equal(first.computed, true);
  const again = await store.getOrCompute("latents-0", compute);
  assert.equal(again.computed, false);
  sameBits(sample(), again.artifact);
  assert.equal(computed, 1);

  // Flip one bit of tensor data: the checksum catches it.
  const file = store.path("latents-0");
  const bytes = await Deno.readFile(file);
  bytes[bytes.length - 40] ^= 1;
  await Deno.writeFile(file, bytes);
  const repaired = await store.getOrCompute("latents-0", compute);
  assert.equal(repaired.computed, true);
  assert.equal(computed, 2);
  sameBits(sample(), repaired.artifact);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /corrupt .*latents-0\.qla: checksum mismatch.*moved to .*corrupt/);
  assert.equal([...Deno.readDirSync(join(store.dir, "corrupt"))].length, 1);
  sameBits(sample(), (await store.getKeyed("latents-0"))!);

  // A truncated file and a content-addressed file whose content was swapped are corrupt too.
  await Deno.writeFile(file, bytes.subarray(0, 20));
  assert.equal(await store.getKeyed("latents-0"), null);
  assert.match(warnings[1], /truncated/);
  const id = await store.put(sample());
  const other = encodeArtifact({ meta: null, tensors: {} });
  await Deno.writeFile(store.path(id), other);
  assert.equal(await store.get(id), null);
  assert.match(warnings[2], /does not hash to its id/);
});

Deno.test("decoding names the file and what is wrong; bad keys and tensors are refused", () => {
  const bytes = encodeArtifact(sample());
  bytes[3] = 0;
  assert.throws(() => decodeArtifact(bytes, "x.qla"), (e: unknown) => {
    assert.ok(e instanceof ArtifactError);
    assert.equal(e.file, "x.qla");
    assert.match(e.message, /bad magic/);
    return true;
  });
  const store = new ArtifactStore("/nonexistent");
  assert.throws(() => store.path("../escape"), /key "..\/escape" is invalid/);
  assert.throws(
    () =>
      encodeArtifact({ meta: null, tensors: { w: { shape: [2, 2], data: new Float32Array(3) } } }),
    /tensor w: shape \[2,2\] does not hold 3 values/,
  );
});

Deno.test("a read-only store says what happened to a corrupt file and refuses before computing", async () => {
  const warnings: string[] = [];
  const dir = await Deno.makeTempDir();
  const store = new ArtifactStore(dir, { warn: (m) => warnings.push(m) });
  await store.putKeyed("latents-0", sample());
  const file = store.path("latents-0");
  const bytes = await Deno.readFile(file);
  bytes[bytes.length - 40] ^= 1;
  await Deno.writeFile(file, bytes);
  let computed = 0;
  const ran = await withReadOnly(dir, async () => {
    await assert.rejects(
      store.getOrCompute("latents-0", () => (computed++, sample())),
      (e: Error) => {
        assert.ok(e instanceof ArtifactStoreError, `${e.name}: ${e.message}`);
        assert.match(
          e.message,
          /cannot store .*latents-0\.qla: something corrupt .* left in place/,
        );
        assert.match(e.message, /nothing was computed/);
        return true;
      },
    );
    assert.equal(computed, 0, "nothing computed that could not be stored");
    assert.match(warnings[0], /checksum mismatch.*; could not move it aside .* nor delete it/);
    assert.doesNotMatch(warnings[0], /; deleted/);
    // A missing artefact in a read-only store: refused before computing, naming the directory.
    await assert.rejects(
      store.getOrCompute("latents-1", () => (computed++, sample())),
      new RegExp(`artefact store ${dir} is not writable`),
    );
    assert.equal(computed, 0);
    await assert.rejects(store.putKeyed("latents-2", sample()), /cannot write .*latents-2\.qla/);
  });
  if (!ran) console.warn("skipped: cannot make a directory read-only here");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a directory at an artefact's path is moved aside and the artefact recomputed", async () => {
  const warnings: string[] = [];
  const store = new ArtifactStore(await Deno.makeTempDir(), { warn: (m) => warnings.push(m) });
  await Deno.mkdir(join(store.path("ckpt-1"), "inner"), { recursive: true });
  const { computed } = await store.getOrCompute("ckpt-1", sample);
  assert.equal(computed, true);
  assert.match(warnings[0], /corrupt .*ckpt-1\.qla: unreadable .*moved to .*corrupt/);
  sameBits(sample(), (await store.getKeyed("ckpt-1"))!);
  await Deno.remove(store.dir, { recursive: true });
});

Deno.test("temp files of a killed writer are swept; a live writer's and foreign files are not", async () => {
  const store = new ArtifactStore(await Deno.makeTempDir());
  const child = new Deno.Command("sleep", { args: ["0"] }).spawn();
  await child.status; // a pid that is certainly gone now
  const dead = join(store.dir, `.latents-0.${child.pid}.0123abcd.tmp`);
  const live = join(store.dir, `.latents-0.${Deno.pid}.0123abcd.tmp`);
  const foreign = join(store.dir, "notes.tmp");
  for (const f of [dead, live, foreign]) await Deno.writeFile(f, new Uint8Array(1024));
  await store.putKeyed("other", sample());
  const left = [...Deno.readDirSync(store.dir)].map((e) => e.name).sort();
  assert.deepEqual(left, [`.latents-0.${Deno.pid}.0123abcd.tmp`, "notes.tmp", "other.qla"]);
  await Deno.remove(store.dir, { recursive: true });
});
