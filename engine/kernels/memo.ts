// Memoized WGSL generators. An op asks for its kernel on every dispatch; generating the source again
// each time (and hashing a fresh multi-kilobyte string in the pipeline cache) costs more host time
// than recording the dispatch, and host time is what bounds a training step on a fast GPU. A
// generator wrapped here runs once per distinct key; the key must determine the source completely.

/** `generate` memoized by `key(spec)`: same key, the same (identical) result object. */
export function memoByKey<S, T>(generate: (spec: S) => T, key: (spec: S) => string): (spec: S) => T {
  const cache = new Map<string, T>();
  return (spec: S) => {
    const k = key(spec);
    let hit = cache.get(k);
    if (hit === undefined) cache.set(k, (hit = generate(spec)));
    return hit;
  };
}
