// @peculiar/x509 2.x resolves its algorithm providers through tsyringe, which refuses to load
// without the Reflect metadata API. The `reflect-metadata` package is not a dependency, so this
// is the part of that API tsyringe uses, installed only when nothing else provided it. Import
// it before @peculiar/x509.

type Key = string | symbol;
const store = new WeakMap<object, Map<Key | undefined, Map<unknown, unknown>>>();

function table(target: object, property: Key | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: Key): void {
    table(target, property, true)?.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: Key): unknown {
    return table(target, property, false)?.get(key);
  },
  hasOwnMetadata(key: unknown, target: object, property?: Key): boolean {
    return table(target, property, false)?.has(key) ?? false;
  },
  getMetadata(key: unknown, target: object, property?: Key): unknown {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const entries = table(t, property, false);
      if (entries?.has(key) === true) return entries.get(key);
    }
    return undefined;
  },
  hasMetadata(key: unknown, target: object, property?: Key): boolean {
    return api.getMetadata(key, target, property) !== undefined;
  },
  metadata(key: unknown, value: unknown) {
    return (target: object, property?: Key): void => api.defineMetadata(key, value, target, property);
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== "function") {
  for (const [name, fn] of Object.entries(api)) reflect[name] = fn;
}
