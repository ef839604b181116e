// Lets plain `node` run this repository's TypeScript sources (Node ≥ 24 strips types): our
// imports name the compiled `.js` files, so a relative `.js` that does not exist resolves to
// the `.ts` beside it. Used only by the benchmark to run the gateway in its own process.
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith(".") && specifier.endsWith(".js")) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});
